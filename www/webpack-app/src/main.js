// A page bundled by webpack that imports edge-persona from npm: the runtime swaps the
// hero from the page's <template>.
import { init } from 'edge-persona';

const config = {
  version: 1,
  consent: { mode: 'implied', level: 'personalization' },
  cookie: { name: 'ep_webpack', maxAgeDays: 30 },
  slots: { hero: {} },
  experiences: [
    { id: 'hero-regular', slot: 'hero', priority: 20, when: { experience: { $ne: 'new' } }, content: { template: 'hero-regular' } },
    { id: 'hero-newcomer', slot: 'hero', priority: 10, when: { experience: 'new' }, content: { template: 'hero-newcomer' } },
  ],
};

await init(config);
