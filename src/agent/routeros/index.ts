/**
 * The router module's public face: what the scan pipeline and the CLI use. Everything else in
 * this directory is an implementation detail.
 *
 *   const source = createRouterSource({ settings: config.router, logger, vendors: openOuiTable(), history });
 *   const inventory = await source.readInventory(signal); // Inventory, or a typed AGENT_ERR_ROUTER_* error
 */
export {
  createRouterSource,
  defaultRetry,
  type InventoryHistory,
  type RetryPolicy,
  type RouterCheck,
  type RouterSource,
  type RouterSourceDeps,
} from './router-source.js';
export type { CpuLoadReader } from './cpu-load.js';
export { inventorySchema, type Inventory, type InventoryHost, type InventoryNeighbor, type HostSource, type SourceTable } from './inventory-schema.js';
export { InventoryRepository } from './inventory-repository.js';
export { openOuiTable, type OuiTable } from './oui-table.js';
export type { VendorLookup } from './mac.js';
export { isRouterError, type RouterTarget } from './router-errors.js';
export { memoryRouterPins, type PinKey, type RouterPins, type StoredPin } from './router-identity.js';
export { RouterPinRepository } from './pin-repository.js';
export { presentedIdentities, type PresentedIdentity } from './router-trust.js';
export { exposureOf, type ExposureConfig, type ExposureTarget, type ExposureVerdict } from './exposure.js';
export { createRouterFeed, watchTables, type FeedEvent, type RouterFeed, type RouterFeedDeps, type WatchTable } from './watch/router-feed.js';
export { ChangeDetector, type Detected, type KnownHosts, type WatchChange } from './watch/change-detector.js';
