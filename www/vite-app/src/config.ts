import type { SiteConfig } from 'edge-persona/config';

/** The site's config, checked against the package's types at build time. */
export const config = {
  version: 1,
  consent: { mode: 'implied', level: 'personalization' },
  cookie: { name: 'ep_vite', maxAgeDays: 30 },
  classify: {
    price: { bands: [{ name: 'budget', below: 1500 }, { name: 'premium' }] },
  },
  segments: [
    { name: 'premium', when: { 'price.band': 'premium' } },
    { name: 'budget', when: { 'price.band': 'budget' } },
  ],
  // The offers slot has no element carrying `data-ep-slot="offers"`: the app renders
  // it from the headless decision, so neither the runtime nor an edge writes into it.
  slots: { hero: {}, offers: {} },
  experiences: [
    { id: 'hero-regular', slot: 'hero', priority: 20, when: { experience: { $ne: 'new' } }, content: { template: 'hero-regular' } },
    { id: 'hero-newcomer', slot: 'hero', priority: 10, when: { experience: 'new' }, content: { template: 'hero-newcomer' } },
    { id: 'offers-fine-dining', slot: 'offers', segments: ['premium'], content: { text: 'fine-dining' } },
    { id: 'offers-set-lunch', slot: 'offers', segments: ['budget'], content: { text: 'set-lunch' } },
  ],
} satisfies SiteConfig;
