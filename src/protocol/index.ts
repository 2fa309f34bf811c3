/** The agent <-> control-plane protocol: one zod schema per message, both ends validate with them. */
export * from './version.js';
export * from './fields.js';
export * from './messages/control.js';
export * from './messages/commands.js';
export * from './messages/reports.js';
export * from './frames.js';
export * from './feed-chunks.js';
