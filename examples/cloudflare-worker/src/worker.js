// The whole worker: the site's config, our wasm, and the ready handler. Requests go
// to EDGE_PERSONA_ORIGIN without the profile cookie; HTML comes back personalized,
// everything else untouched.
import wasm from 'edge-persona/cloudflare.wasm';
import { createHandler } from 'edge-persona/cloudflare';
// The demo restaurant's config, so that this example runs against the demo site as
// it is: put your site's own config here before deploying.
import config from '../../../www/demo/config.json';

// The rewriting strategy comes from EDGE_PERSONA_STRATEGY ("auto" by default, or
// "lol-html", "htmlrewriter"); BENCHMARKS.md measures both in workerd.
export default createHandler({ config, wasm });
