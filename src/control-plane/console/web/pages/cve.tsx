export function CvePage(_props: { id?: string; scanId?: string }) {
  return <h1>CvePage</h1>;
}
