// The demo site's own behaviour (not part of edge-persona): the consent bar, "Забыть
// меня", the booking form and the feedback after "Выбрать столик". Loaded as a module,
// no inline scripts or handlers, no innerHTML: it works under the strict CSP and
// with Trusted Types enforced.
//
// edge-persona is driven only through its command queue, which accepts commands made
// before the runtime has loaded: `(window.edgePersona = window.edgePersona || []).push([...])`.

const CONSENT_KEY = "demo-consent";
const ANSWERS = new Set(["personalization", "denied"]);

function push(command) {
  return (window.edgePersona = window.edgePersona || []).push(command);
}

function storageGet(key) {
  try {
    return window.localStorage.getItem(key);
  } catch {
    return null; // storage disabled, sandboxed frame, private mode...
  }
}

/** Writes a cookie of the site; false where cookies are blocked (a sandboxed frame throws). */
function setCookie(assignment) {
  try {
    document.cookie = assignment;
    return true;
  } catch {
    return false;
  }
}

function storageSet(key, value) {
  try {
    window.localStorage.setItem(key, value);
  } catch {
    // The answer then lasts for this page only.
  }
}

// 1. Before anything else: replay the visitor's earlier consent answer.
const storedConsent = storageGet(CONSENT_KEY);
if (ANSWERS.has(storedConsent)) push(["consent", storedConsent]);

/** True once the runtime has replaced the plain array's push with its own. */
function runtimeReady() {
  const queue = window.edgePersona;
  return Boolean(queue) && typeof queue.push === "function" && queue.push !== Array.prototype.push;
}

/**
 * Pushes a command that must be recorded before the page is left: waits (briefly)
 * for the runtime, then for the promise its push may return. Never waits longer
 * than `timeoutMs` in all, so a missing runtime does not block the visitor.
 */
async function pushBeforeLeaving(command, timeoutMs = 1500) {
  const deadline = performance.now() + timeoutMs;
  while (!runtimeReady() && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  let result;
  try {
    result = push(command);
  } catch {
    return;
  }
  if (result && typeof result.then === "function") {
    const left = Math.max(0, deadline - performance.now());
    await Promise.race([Promise.resolve(result).catch(() => {}), new Promise((resolve) => setTimeout(resolve, left))]);
  }
}

// 2. The consent bar: shown until answered; the answer is remembered.
const consentBar = document.getElementById("consent");

function showConsentBar() {
  if (!consentBar) return;
  consentBar.hidden = false;
  document.documentElement.classList.add("consent-open");
}

function hideConsentBar() {
  if (!consentBar) return;
  consentBar.hidden = true;
  document.documentElement.classList.remove("consent-open");
}

if (consentBar) {
  consentBar.addEventListener("click", (event) => {
    const button = event.target instanceof Element ? event.target.closest("[data-consent]") : null;
    const answer = button?.getAttribute("data-consent");
    if (!ANSWERS.has(answer)) return;
    storageSet(CONSENT_KEY, answer);
    // The name the site keeps for greetings is profiling too: only with consent.
    if (answer !== "personalization") setCookie("name=; Path=/; SameSite=Lax; Max-Age=0");
    push(["consent", answer]);
    hideConsentBar();
  });
  if (!ANSWERS.has(storedConsent)) showConsentBar();
}

document.getElementById("consent-change")?.addEventListener("click", showConsentBar);

// 3. "Забыть меня": the runtime deletes its profile; the site forgets the name it
// stored at booking. The consent answer is kept, so the reload shows a new visitor.
document.getElementById("ep-forget")?.addEventListener("click", async (event) => {
  event.currentTarget.disabled = true;
  setCookie("name=; Path=/; SameSite=Lax; Max-Age=0");
  await pushBeforeLeaving(["forget"]);
  location.reload();
});

// 4. "Выбрать столик": the runtime records the add_to_cart click by itself
// ([data-ep-event]); the site confirms it and offers the next step.
let toast;
let toastTimer;

function restaurantName(button) {
  const title = button.closest("li")?.querySelector("h3") ?? document.querySelector("main h1");
  return title ? title.textContent.trim() : "ресторан";
}

function showToast(button) {
  const item = button.getAttribute("data-ep-item") || "";
  if (!toast) {
    toast = document.createElement("div");
    toast.className = "toast";
    toast.setAttribute("role", "status");
    toast.append(document.createElement("span"), document.createElement("a"));
    document.body.append(toast);
  }
  const [text, link] = toast.children;
  text.textContent = `Вы выбрали: ${restaurantName(button)}.`;
  link.textContent = "Перейти к бронированию →";
  link.href = "/book.html" + (item ? `?r=${encodeURIComponent(item)}` : "");
  toast.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    toast.hidden = true;
  }, 8000);
}

document.addEventListener("click", (event) => {
  const button = event.target instanceof Element ? event.target.closest('[data-ep-event="add_to_cart"]') : null;
  if (button) showToast(button);
});

// 5. The booking form. Opening it begins a checkout (leaving without submitting is
// an abandoned booking); submitting stores the name in the site's own cookie (which
// the config's greeting reads), records the purchase and shows the confirmation.
const form = document.getElementById("booking-form");

function localDate(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

if (form) {
  const restaurant = form.elements.namedItem("restaurant");
  const wanted = new URLSearchParams(location.search).get("r");
  if (restaurant && wanted && Array.from(restaurant.options).some((option) => option.value === wanted)) {
    restaurant.value = wanted;
  }
  const date = form.elements.namedItem("date");
  if (date) {
    const today = localDate(new Date());
    date.min = today;
    if (!date.value) date.value = today;
  }

  push(["track", "checkout", { category: "booking" }]);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const submit = form.querySelector('[type="submit"]');
    if (submit) submit.disabled = true;
    const name = String(new FormData(form).get("name") ?? "").trim().slice(0, 40);
    if (name && storageGet(CONSENT_KEY) === "personalization") {
      setCookie(`name=${encodeURIComponent(name)}; Path=/; SameSite=Lax; Max-Age=31536000`);
    }
    await pushBeforeLeaving(["track", "purchase", { value: 4000, category: "booking" }]);
    location.assign("/thanks.html");
  });
}
