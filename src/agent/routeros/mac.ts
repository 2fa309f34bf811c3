/** MAC addresses as the inventory keys them: the rules live in src/shared/mac.ts. */

export interface VendorLookup {
  /** The registrant of the MAC's OUI (MA-S, MA-M or MA-L block), or undefined. */
  vendorOf(mac: string): string | undefined;
}
