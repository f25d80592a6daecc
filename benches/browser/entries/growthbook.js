// GrowthBook, what a landing page needs: one instance with local features (no
// network), the visitor's attributes, one flag and one value read.
import { GrowthBook } from '@growthbook/growthbook';

const gb = new GrowthBook({
  attributes: {
    id: 'visitor-7',
    utm: { source: 'yandex' },
    device: 'mobile',
    visitor: { visits: 4 },
    price: { band: 'premium' },
  },
  features: {
    hero: {
      defaultValue: null,
      rules: [
        { condition: { 'utm.source': 'yandex', device: 'mobile' }, force: { template: 'a' } },
        { condition: { 'visitor.visits': { $gte: 5 } }, force: { template: 'b' } },
      ],
    },
    newsletter: { defaultValue: false, rules: [{ condition: { 'visitor.visits': { $lt: 2 } }, force: true }] },
  },
});

const hero = gb.getFeatureValue('hero', null);
if (hero) document.documentElement.dataset.hero = hero.template;
if (gb.isOn('newsletter')) document.documentElement.classList.add('newsletter');
