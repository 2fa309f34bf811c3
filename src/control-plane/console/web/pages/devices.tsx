export function DevicesPage() {
  return <h1>Devices</h1>;
}
export function DeviceDetailPage(_props: { mac: string }) {
  return <h1>Device</h1>;
}
