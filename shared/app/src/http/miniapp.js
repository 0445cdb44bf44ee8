// The Telegram Mini App. No script from telegram.org (the CSP allows only
// this origin): Telegram passes initData and the theme in the URL's
// fragment (tgWebAppData, tgWebAppThemeParams), and the page talks back
// through the client's documented event bridge (postEvent) for the back
// button. Every value goes into the page through textContent.
const $ = (id) => document.getElementById(id);
const hash = new URLSearchParams(location.hash.slice(1));
// Kept for the session: links inside the app drop the fragment.
const initData = hash.get('tgWebAppData') || sessionStorage.getItem('tgWebAppData') || '';
if (initData) sessionStorage.setItem('tgWebAppData', initData);

function applyTheme(raw) {
  try {
    const t = JSON.parse(raw || '{}');
    const map = { bg_color: '--bg', text_color: '--text', hint_color: '--hint', button_color: '--button', button_text_color: '--button-text', secondary_bg_color: '--card' };
    for (const [k, v] of Object.entries(map)) if (typeof t[k] === 'string' && /^#[0-9a-fA-F]{3,8}$/.test(t[k])) document.documentElement.style.setProperty(v, t[k]);
  } catch (_) { /* a theme we cannot read keeps the defaults */ }
}
applyTheme(hash.get('tgWebAppThemeParams'));

// Telegram's event bridge: the mobile clients' proxy, or the web client
// (parent frame) by postMessage.
function postEvent(type, data) {
  const payload = JSON.stringify(data || {});
  try {
    if (window.TelegramWebviewProxy) window.TelegramWebviewProxy.postEvent(type, payload);
    else if (window.external && 'notify' in window.external) window.external.notify(JSON.stringify({ eventType: type, eventData: data || {} }));
    else if (window.parent !== window) window.parent.postMessage(JSON.stringify({ eventType: type, eventData: data || {} }), '*');
  } catch (_) { /* outside Telegram: nothing to tell */ }
}
function onTelegramEvent(type, handler) {
  const receive = (eventType, eventData) => { if (eventType === type) handler(eventData); };
  window.Telegram = window.Telegram || {};
  window.Telegram.WebView = window.Telegram.WebView || {};
  const prev = window.Telegram.WebView.receiveEvent;
  window.Telegram.WebView.receiveEvent = (t, d) => { receive(t, d); if (prev) prev(t, d); };
  window.addEventListener('message', (e) => { try { const m = JSON.parse(e.data); receive(m.eventType, m.eventData); } catch (_) {} });
}

// The bot's four languages: the user's (as the bot knows it, from /api/me),
// else Telegram's language_code from initData, else English.
const TEXTS = {
  en: { list: 'Watchlist', find: 'Find', alerts: 'Alerts', remove: 'Remove', watch: 'Watch', alert: 'Alert', mute: 'Mute', unmute: 'Unmute', del: 'Delete', bought: 'Bought', unbought: 'Want again', muted: ' (muted)', gone: 'no longer listed', empty: 'Your watchlist is empty: find items in the Find tab.', noalerts: 'No alerts yet: set one from the Find tab or in the bot.', nothing: 'Nothing matches “{q}”.', watching: 'Watching {name}', instock: 'You will hear when {name} is back in stock', open: 'Open this page from the bot in Telegram: it signs you in.', nopr: 'no price', oos: 'out of stock', placeholder: 'darkside, rtx 4070, or 18k…' },
  ru: { list: 'Список', find: 'Найти', alerts: 'Оповещения', remove: 'Убрать', watch: 'Следить', alert: 'Оповестить', mute: 'Выкл.', unmute: 'Вкл.', del: 'Удалить', bought: 'Куплено', unbought: 'Снова хочу', muted: ' (выкл.)', gone: 'больше нет в продаже', empty: 'Список пуст: найдите товары во вкладке «Найти».', noalerts: 'Оповещений пока нет: создайте во вкладке «Найти» или в боте.', nothing: 'Ничего не найдено по «{q}».', watching: 'Слежу за {name}', instock: 'Сообщу, когда {name} появится в наличии', open: 'Откройте эту страницу из бота в Telegram: так вы войдёте.', nopr: 'без цены', oos: 'нет в наличии', placeholder: 'darkside, rtx 4070, 585…' },
  fr: { list: 'Ma liste', find: 'Chercher', alerts: 'Alertes', remove: 'Retirer', watch: 'Suivre', alert: 'Alerte', mute: 'Couper', unmute: 'Réactiver', del: 'Supprimer', bought: 'Acheté', unbought: 'Je le veux encore', muted: ' (coupée)', gone: 'plus en vente', empty: 'Votre liste est vide : cherchez des articles dans l’onglet Chercher.', noalerts: 'Pas encore d’alerte : créez-en une dans Chercher ou dans le bot.', nothing: 'Rien ne correspond à « {q} ».', watching: 'Vous suivez {name}', instock: 'Vous saurez quand {name} sera de retour en stock', open: 'Ouvrez cette page depuis le bot dans Telegram : c’est ce qui vous connecte.', nopr: 'sans prix', oos: 'en rupture', placeholder: 'darkside, rtx 4070, or 18k…' },
  ar: { list: 'قائمتي', find: 'بحث', alerts: 'التنبيهات', remove: 'إزالة', watch: 'متابعة', alert: 'تنبيه', mute: 'كتم', unmute: 'تفعيل', del: 'حذف', bought: 'اشتريته', unbought: 'أريده مجددًا', muted: ' (مكتوم)', gone: 'لم يعد معروضًا', empty: 'قائمتك فارغة: ابحث عن منتجات في تبويب البحث.', noalerts: 'لا تنبيهات بعد: أنشئ واحدًا من تبويب البحث أو في البوت.', nothing: 'لا شيء يطابق «{q}».', watching: 'تتابع {name}', instock: 'ستعرف عندما يعود {name} إلى المخزون', open: 'افتح هذه الصفحة من البوت في Telegram: هكذا تسجّل الدخول.', nopr: 'بلا سعر', oos: 'غير متوفر', placeholder: 'ذهب 18، darkside…' },
};
let LANG = 'en';
function t(key, vars) {
  let s = TEXTS[LANG][key] || TEXTS.en[key] || key;
  for (const [k, v] of Object.entries(vars || {})) s = s.replace('{' + k + '}', v);
  return s;
}
function setLanguage(code) {
  const l = (code || '').slice(0, 2).toLowerCase();
  LANG = l in TEXTS ? l : 'en';
  document.documentElement.lang = LANG;
  document.documentElement.dir = LANG === 'ar' ? 'rtl' : 'ltr';
  for (const v of ['list', 'find', 'alerts']) $('tab-' + v).textContent = t(v);
  $('q').placeholder = t('placeholder');
}
try { setLanguage(JSON.parse(new URLSearchParams(initData).get('user') || '{}').language_code); } catch (_) { setLanguage('en'); }

async function api(method, path, body) {
  const headers = { Authorization: 'tma ' + initData };
  if (body) headers['Content-Type'] = 'application/json';
  const r = await fetch(path, { method, headers, body: body ? JSON.stringify(body) : undefined });
  if (r.status === 204) return null;
  const json = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(json.error ? json.error.message : r.statusText);
  return json;
}
function status(text, err) { $('status').textContent = text; $('status').className = err ? 'err' : 'muted'; }
function priceText(p) { return p && p.price ? p.price.amount + ' ' + p.price.currency : (p && p.availability === 'out_of_stock' ? t('oos') : t('nopr')); }
// A picture through our own image route (the CSP allows no other host);
// one that does not load is dropped.
function thumb(item) {
  if (!item || !item.image) return null;
  const img = document.createElement('img'); img.className = 'thumb'; img.alt = ''; img.loading = 'lazy';
  img.src = '/api/items/' + encodeURIComponent(item.item_id) + '/image';
  img.onerror = () => img.remove();
  return img;
}
function card(title, sub, price, buttons, item) {
  const li = document.createElement('li');
  const pic = thumb(item); if (pic) li.append(pic);
  const what = document.createElement('div'); what.className = 'what';
  const t = document.createElement('div'); t.textContent = title; t.dir = 'auto';
  const s = document.createElement('div'); s.className = 'muted'; s.textContent = sub;
  what.append(t, s);
  const pr = document.createElement('div'); pr.className = 'price'; pr.textContent = price;
  li.append(what, pr);
  for (const [label, action] of buttons) {
    const b = document.createElement('button'); b.textContent = label;
    b.onclick = async () => { b.disabled = true; try { await action(); } catch (e) { status(e.message, true); } b.disabled = false; };
    li.append(b);
  }
  return li;
}

const views = ['list', 'find', 'alerts'];
function show(view) {
  for (const v of views) { $('view-' + v).hidden = v !== view; $('tab-' + v).classList.toggle('on', v === view); }
  // The back button leads home from the other tabs.
  postEvent('web_app_setup_back_button', { is_visible: view !== 'list' });
  if (view === 'list') loadWatches();
  if (view === 'alerts') loadAlerts();
  if (view === 'find') $('q').focus();
}
onTelegramEvent('back_button_pressed', () => show('list'));

async function loadWatches() {
  try {
    const { watches } = await api('GET', '/api/me/watches');
    const ul = $('watches'); ul.textContent = '';
    for (const w of watches) {
      const name = w.item ? w.item.name : w.item_id;
      const path = '/api/me/watches/' + encodeURIComponent(w.item_id);
      const li = card(name, w.item ? w.item.source_id : t('gone'), priceText(w.item), [
        [w.purchased_at ? t('unbought') : t('bought'), async () => { await api('PATCH', path, { purchased: !w.purchased_at }); loadWatches(); }],
        [t('remove'), async () => { await api('DELETE', path); loadWatches(); }],
      ], w.item);
      if (w.purchased_at) li.classList.add('done');
      ul.append(li);
    }
    status(watches.length ? '' : t('empty'));
  } catch (e) { status(e.message, true); }
}

let seq = 0, timer = null;
async function find() {
  const q = $('q').value.trim(); const mine = ++seq;
  if (!q) { $('found').textContent = ''; return; }
  try {
    const { results } = await api('GET', '/api/search?' + new URLSearchParams({ q, limit: '30' }));
    if (mine !== seq) return;
    const ul = $('found'); ul.textContent = '';
    for (const p of results) {
      ul.append(card(p.name, p.brand ? p.brand + ' · ' + p.source_id : p.source_id, priceText(p), [
        [t('watch'), async () => { await api('POST', '/api/me/watches', { item_id: p.item_id }); status(t('watching', { name: p.name })); }],
        [t('alert'), async () => { await api('POST', '/api/me/alerts', { item_id: p.item_id, rule: { kind: 'back_in_stock' } }); status(t('instock', { name: p.name })); }],
      ], p));
    }
    status(results.length ? '' : t('nothing', { q }));
  } catch (e) { if (mine === seq) status(e.message, true); }
}
$('q').oninput = () => { clearTimeout(timer); timer = setTimeout(find, 200); };

async function loadAlerts() {
  try {
    const { alerts } = await api('GET', '/api/me/alerts');
    const ul = $('alerts'); ul.textContent = '';
    for (const a of alerts) {
      const r = a.rule; const rule = r.kind === 'drop' ? 'drop ' + r.percent + '%' : r.price ? r.kind.replace(/_/g, ' ') + ' ' + r.price + ' ' + (a.currency || '') : r.kind.replace(/_/g, ' ');
      ul.append(card(a.item_id || a.series_id, rule + (a.active ? '' : t('muted')), '', [
        [a.active ? t('mute') : t('unmute'), async () => { await api('PATCH', '/api/me/alerts/' + a.id, { active: !a.active }); loadAlerts(); }],
        [t('del'), async () => { await api('DELETE', '/api/me/alerts/' + a.id); loadAlerts(); }],
      ]));
    }
    status(alerts.length ? '' : t('noalerts'));
  } catch (e) { status(e.message, true); }
}

for (const v of views) $('tab-' + v).onclick = () => show(v);
postEvent('web_app_ready');
if (!initData) status(t('open'), true);
else {
  // The bot's "open in app" buttons name the tab: ?tab=list|find|alerts.
  const tab = new URLSearchParams(location.search).get('tab');
  api('GET', '/api/me').then((me) => { setLanguage(me.language); $('who').textContent = me.first_name; show(views.includes(tab) ? tab : 'list'); }).catch((e) => status(e.message, true));
}
