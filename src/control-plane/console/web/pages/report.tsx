export function ReportPage(_props: { id?: string; scanId?: string }) {
  return <h1>ReportPage</h1>;
}
