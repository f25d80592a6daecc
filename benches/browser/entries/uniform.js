// Uniform Context, what a landing page needs: a Context over a manifest (signals
// from the query string, a cookie and the page-view count), one personalized
// placement and one A/B test.
import { Context } from '@uniformdev/context';

const context = new Context({
  defaultConsent: true,
  manifest: {
    project: {
      pz: {
        sig: {
          yandex: {
            str: 50, cap: 100, dur: 's',
            crit: { type: 'G', clauses: [{ type: 'QS', queryName: 'utm_source', match: { op: '=', rhs: 'yandex' } }] },
          },
          loyal: {
            str: 50, cap: 100, dur: 'p',
            crit: { type: 'G', clauses: [{ type: 'PVC', match: { op: '>', rhs: 4 } }] },
          },
          named: {
            str: 10, cap: 10, dur: 't',
            crit: { type: 'G', clauses: [{ type: 'CK', cookieName: 'name', match: { op: '*' } }] },
          },
        },
      },
      test: { offers: {} },
    },
  },
});

context.update({ url: new URL(location.href), cookies: Object.fromEntries(document.cookie.split('; ').map((c) => c.split('='))) }).then(() => {
  const hero = context.personalize({
    name: 'hero',
    variations: [
      { id: 'a', pz: { crit: [{ l: 'yandex', op: '>', r: 0 }] } },
      { id: 'b', pz: { crit: [{ l: 'loyal', op: '>', r: 0 }] } },
      { id: 'default' },
    ],
  });
  const offers = context.test({ name: 'offers', variations: [{ id: 'x' }, { id: 'y' }] });
  document.documentElement.dataset.hero = hero.variations[0]?.id ?? '';
  document.documentElement.dataset.offers = offers.result?.id ?? '';
});
