export function Marks() {
  return <h1>Marks</h1>;
}
