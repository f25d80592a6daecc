// A frontend app using edge-persona from npm. The hero is swapped by the runtime
// from the page's <template>; the offers block is rendered by the app itself from
// the headless decision, the way a React or Vue component would.
import { init, type Decision } from 'edge-persona';
import { config } from './config';

const OFFERS: Record<string, { title: string; items: string[] }> = {
  'fine-dining': { title: 'Высокая кухня', items: ['White Rabbit — 8 500 ₽', 'Сахалин — 7 000 ₽'] },
  'set-lunch': { title: 'Бизнес-ланчи рядом', items: ['Ланч-корнер — 650 ₽', 'Грузинский двор — 590 ₽'] },
};

/** The app's own rendering of the offers slot (text nodes only: no HTML strings). */
function renderOffers(decision: Decision | null): void {
  const slot = decision?.slots.find((s) => s.slot === 'offers');
  const key = slot?.content?.text;
  const offers = key ? OFFERS[key] : undefined;
  const root = document.getElementById('offers');
  if (!root || !offers) return; // default content stays
  const title = document.createElement('h2');
  title.textContent = offers.title;
  const list = document.createElement('ul');
  for (const item of offers.items) {
    const li = document.createElement('li');
    li.textContent = item;
    list.append(li);
  }
  root.replaceChildren(title, list);
  root.dataset.rendered = key;
}

// `?price=8500` on the URL stands in for a product page's annotation.
const price = Number(new URL(location.href).searchParams.get('price')) || undefined;
const persona = await init(config, { page: { price } });
renderOffers(persona.decide());
document.addEventListener('edge-persona:decision', (event) => renderOffers(event.detail.decision));
