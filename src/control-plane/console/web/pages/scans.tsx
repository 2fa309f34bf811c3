export function ScansPage() {
  return <h1>ScansPage</h1>;
}
