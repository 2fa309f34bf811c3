// Phone layout: style.css turns table rows into stacked cards below 640px and
// shows each cell's column name from data-label. Labels are copied from the
// table's <th> row here, once for every table, so no page has to repeat them.
function labelTable(table: HTMLTableElement): void {
  const heads = Array.from(table.querySelectorAll('thead th')).map((th) => th.textContent?.trim() ?? '');
  if (heads.length === 0) return;
  for (const row of Array.from(table.querySelectorAll('tbody tr'))) {
    Array.from(row.children).forEach((cell, i) => {
      const label = heads[i] ?? '';
      if (cell.getAttribute('data-label') !== label) cell.setAttribute('data-label', label);
    });
  }
}

export function labelTablesIn(root: HTMLElement): void {
  const run = (): void => root.querySelectorAll('table').forEach((t) => labelTable(t));
  run();
  new MutationObserver(run).observe(root, { childList: true, subtree: true, characterData: true });
}
