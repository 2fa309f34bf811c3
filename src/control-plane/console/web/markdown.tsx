/**
 * The mitigation advice's Markdown subset (headings, `- ` lists, `code`, bare URLs) as Preact
 * nodes: no innerHTML, so nothing in a CVE record can inject markup.
 */
import type { ComponentChildren } from 'preact';

function inline(text: string): ComponentChildren[] {
  return text.split(/(`[^`]+`|https?:\/\/[^\s)]+)/g).map((part, i) => {
    if (part.startsWith('`') && part.endsWith('`') && part.length > 1) return <code key={i}>{part.slice(1, -1)}</code>;
    if (/^https?:\/\//.test(part))
      return (
        <a key={i} href={part} rel="noreferrer noopener" target="_blank">
          {part}
        </a>
      );
    return part;
  });
}

export function Markdown({ text }: { text: string }) {
  const blocks: ComponentChildren[] = [];
  let list: string[] = [];
  const flush = () => {
    if (list.length === 0) return;
    blocks.push(
      <ul key={`ul-${blocks.length}`}>
        {list.map((item, i) => (
          <li key={i}>{inline(item)}</li>
        ))}
      </ul>,
    );
    list = [];
  };
  for (const line of text.split('\n')) {
    if (line.startsWith('- ')) {
      list.push(line.slice(2));
      continue;
    }
    flush();
    const heading = /^(#{1,6}) (.*)$/.exec(line);
    if (heading) blocks.push(<h3 key={blocks.length}>{inline(heading[2] ?? '')}</h3>);
    else if (line.trim() !== '') blocks.push(<p key={blocks.length}>{inline(line)}</p>);
  }
  flush();
  return <div class="markdown">{blocks}</div>;
}
