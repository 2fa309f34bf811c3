export function ScheduleForm(_props: { id?: string; scanId?: string }) {
  return <h1>ScheduleForm</h1>;
}
