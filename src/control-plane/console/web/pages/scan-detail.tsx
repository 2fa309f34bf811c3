export function ScanDetailPage(_props: { id?: string; scanId?: string }) {
  return <h1>ScanDetailPage</h1>;
}
