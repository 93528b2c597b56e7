// A node's config (NodeDef) carries whatever its editor `defaults` declare; let it say so, so flows in
// tests and config readers type-check without casts. Each node still parses its config with zod.
import '@node-red/registry';

declare module '@node-red/registry' {
  interface NodeDef {
    [property: string]: unknown;
  }
}
