// Optimizely Feature Experimentation (v6), what a landing page needs: a client over
// a datafile inlined in the page (static config manager: no polling, no network),
// one user context and one decision.
import { createInstance, createStaticProjectConfigManager } from '@optimizely/optimizely-sdk';
import datafile from './optimizely-datafile.json';

const optimizely = createInstance({
  projectConfigManager: createStaticProjectConfigManager({ datafile: JSON.stringify(datafile) }),
});

optimizely.onReady().then(() => {
  const user = optimizely.createUserContext('visitor-7', {
    utm_source: 'yandex',
    device: 'mobile',
    visits: 4,
    price_band: 'premium',
  });
  const decision = user.decide('hero');
  if (decision.enabled) document.documentElement.dataset.hero = String(decision.variables.template ?? decision.variationKey);
});
