// The package's types as a Node ESM project (`moduleResolution: node16`) sees them:
// every entry must resolve, and the config type must stay a real type (a relative
// import without its `.js` extension resolves to nothing there, and `SiteConfig`
// then silently becomes `any`).
import { init, type DecisionEventDetail } from 'edge-persona';
import { createPersonalizer, type EdgeOptions } from 'edge-persona/cloudflare';
import type { SiteConfig } from 'edge-persona/config';

const config = { version: 1, slots: { hero: {} } } satisfies SiteConfig;
declare const wasm: WebAssembly.Module;

export const edgeOptions: EdgeOptions = { config, wasm };

export const misspelt: EdgeOptions = {
  // @ts-expect-error: `nope` is no slot setting, in the Cloudflare entry's config too.
  config: { version: 1, slots: { hero: { nope: 1 } } },
  wasm,
};

export const started = (): Promise<unknown> => init(config);
export const personalizer = (): unknown => createPersonalizer(edgeOptions);
export type Decided = DecisionEventDetail;
