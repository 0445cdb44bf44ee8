// Every value from the API goes into the page through textContent, never innerHTML:
// names come from scraped posts.
const $ = (id) => document.getElementById(id);
let cursor = null;
// The bot's four languages. `?lang=` picks one, else the browser's first
// that we have; Arabic turns the page right to left.
const TEXTS = {
  en: { sort: 'Sort', sort_default: 'default', sort_price_asc: 'cheapest first', sort_price_desc: 'dearest first', sort_newest: 'newest', sort_drops: 'biggest drops', sort_rises: 'biggest rises', availability: 'Availability', any: 'any', in_stock_opt: 'in stock', min: 'From', max: 'To', badnum: 'Prices are plain numbers such as 100 or 12.50.', open: 'Open at the source', inseries: 'Series: {s}', rate: '{currency} at {rate} per {base}', prices: 'Prices', gold: 'Gold board', series: 'Series', jeweler: 'Jeweler', spot: 'Spot per gram', deal: 'Deal', outlier: 'outlier', stats: '{count} listings · min {min} · median {median} · max {max} {currency}', nostats: 'No prices in this window.', nogold: 'No jeweler quotes yet.', fine: 'fineness', sub: 'Latest prices from every source.', search: 'Search', source: 'Source', all: 'all sources', more: 'More', loading: 'Loading…', item: 'Item', price: 'Price', seen: 'Seen', placeholder: 'darkside, rtx 4070, or 18k…', searching: 'Searching…', nothing: 'Nothing matches “{q}”.', empty: 'No prices yet: the scrapers fill this in on their schedule.', in_stock: 'in stock, no price', out_of_stock: 'out of stock', unknown: 'no price', one: 'Only one price so far.', none: 'No price seen yet.', caption: 'min {min} · max {max} · {n} prices' },
  ru: { sort: 'Порядок', sort_default: 'по умолчанию', sort_price_asc: 'сначала дешёвые', sort_price_desc: 'сначала дорогие', sort_newest: 'сначала новые', sort_drops: 'сильнее всего подешевели', sort_rises: 'сильнее всего подорожали', availability: 'Наличие', any: 'любое', in_stock_opt: 'в наличии', min: 'От', max: 'До', badnum: 'Цена пишется числом, например 100 или 12.50.', open: 'Открыть у источника', inseries: 'Серия: {s}', rate: '{currency} по {rate} за {base}', prices: 'Цены', gold: 'Золото', series: 'Серии', jeweler: 'Ювелир', spot: 'Спот за грамм', deal: 'Выгода', outlier: 'выброс', stats: 'объявлений: {count} · мин {min} · медиана {median} · макс {max} {currency}', nostats: 'В этом окне цен нет.', nogold: 'Котировок ювелиров пока нет.', fine: 'проба', sub: 'Последние цены из всех источников.', search: 'Поиск', source: 'Источник', all: 'все источники', more: 'Ещё', loading: 'Загрузка…', item: 'Товар', price: 'Цена', seen: 'Когда', placeholder: 'darkside, rtx 4070, 585…', searching: 'Ищу…', nothing: 'Ничего не найдено по «{q}».', empty: 'Цен пока нет: источники читаются по расписанию.', in_stock: 'в наличии, без цены', out_of_stock: 'нет в наличии', unknown: 'без цены', one: 'Пока только одна цена.', none: 'Цены ещё не было.', caption: 'мин {min} · макс {max} · цен: {n}' },
  fr: { sort: 'Ordre', sort_default: 'par défaut', sort_price_asc: 'moins chers d’abord', sort_price_desc: 'plus chers d’abord', sort_newest: 'plus récents', sort_drops: 'plus fortes baisses', sort_rises: 'plus fortes hausses', availability: 'Disponibilité', any: 'toutes', in_stock_opt: 'en stock', min: 'De', max: 'À', badnum: 'Un prix s’écrit comme 100 ou 12.50.', open: 'Voir à la source', inseries: 'Série : {s}', rate: '{currency} à {rate} pour 1 {base}', prices: 'Prix', gold: 'Or', series: 'Séries', jeweler: 'Bijoutier', spot: 'Cours au gramme', deal: 'Affaire', outlier: 'aberrant', stats: '{count} annonces · min {min} · médiane {median} · max {max} {currency}', nostats: 'Aucun prix sur cette période.', nogold: 'Pas encore de cotes de bijoutiers.', fine: 'titre', sub: 'Les derniers prix de toutes les sources.', search: 'Chercher', source: 'Source', all: 'toutes les sources', more: 'Plus', loading: 'Chargement…', item: 'Article', price: 'Prix', seen: 'Vu', placeholder: 'darkside, rtx 4070, or 18k…', searching: 'Recherche…', nothing: 'Rien ne correspond à « {q} ».', empty: 'Pas encore de prix : les sources sont lues selon leur horaire.', in_stock: 'en stock, sans prix', out_of_stock: 'en rupture', unknown: 'sans prix', one: 'Un seul prix pour l’instant.', none: 'Aucun prix vu.', caption: 'min {min} · max {max} · {n} prix' },
  ar: { sort: 'الترتيب', sort_default: 'الافتراضي', sort_price_asc: 'الأرخص أولًا', sort_price_desc: 'الأغلى أولًا', sort_newest: 'الأحدث', sort_drops: 'أكبر انخفاض', sort_rises: 'أكبر ارتفاع', availability: 'التوفر', any: 'الكل', in_stock_opt: 'متوفر', min: 'من', max: 'إلى', badnum: 'السعر رقم مثل 100 أو 12.50.', open: 'افتح عند المصدر', inseries: 'السلسلة: {s}', rate: '{currency} بسعر {rate} لكل {base}', prices: 'الأسعار', gold: 'لوحة الذهب', series: 'السلاسل', jeweler: 'الصائغ', spot: 'السعر العالمي للغرام', deal: 'الصفقة', outlier: 'شاذ', stats: '{count} إعلانات · الأدنى {min} · الوسيط {median} · الأعلى {max} {currency}', nostats: 'لا أسعار في هذه الفترة.', nogold: 'لا أسعار صاغة بعد.', fine: 'العيار', sub: 'أحدث الأسعار من كل المصادر.', search: 'بحث', source: 'المصدر', all: 'كل المصادر', more: 'المزيد', loading: 'جارٍ التحميل…', item: 'المنتج', price: 'السعر', seen: 'شوهد', placeholder: 'ذهب 18، darkside…', searching: 'جارٍ البحث…', nothing: 'لا شيء يطابق «{q}».', empty: 'لا أسعار بعد: تُقرأ المصادر حسب جدولها.', in_stock: 'متوفر، بلا سعر', out_of_stock: 'غير متوفر', unknown: 'بلا سعر', one: 'سعر واحد حتى الآن.', none: 'لم يُرَ أي سعر بعد.', caption: 'الأدنى {min} · الأعلى {max} · {n} أسعار' },
};
const LANG = (() => {
  const asked = new URLSearchParams(location.search).get('lang');
  const wanted = [asked, ...(navigator.languages || [navigator.language])].filter(Boolean).map((l) => l.slice(0, 2).toLowerCase());
  return wanted.find((l) => l in TEXTS) || 'en';
})();
function t(key, vars) {
  let s = TEXTS[LANG][key] || TEXTS.en[key] || key;
  for (const [k, v] of Object.entries(vars || {})) s = s.replace('{' + k + '}', v);
  return s;
}
document.documentElement.lang = LANG;
document.documentElement.dir = LANG === 'ar' ? 'rtl' : 'ltr';
for (const el of document.querySelectorAll('[data-t]')) el.textContent = t(el.dataset.t);
$('q').placeholder = t('placeholder');
async function api(path) {
  const r = await fetch(path);
  const body = await r.json();
  if (!r.ok) throw new Error(body.error ? body.error.message : r.statusText);
  return body;
}
// A price, or what the source said instead (the API sends `price: null`
// for an item shown without one: out of stock, price on request).
function priceText(p) { return p.price ? p.price.amount + ' ' + p.price.currency : t(p.availability in TEXTS.en ? p.availability : 'unknown'); }
// The last change beside the price: ▼ for a drop, ▲ for a rise.
function changeBadge(p) {
  const pct = p.change && p.change.percent;
  if (!pct || Number(pct) === 0) return null;
  const s = document.createElement('span'); const down = pct.startsWith('-');
  s.className = 'chg ' + (down ? 'down' : 'up'); s.textContent = (down ? '▼' : '▲') + pct.replace('-', '') + '%';
  s.title = p.change.from.amount + ' ' + p.change.from.currency;
  return s;
}
// A picture through our own image route (the CSP allows no other host);
// one that does not load is dropped.
function thumb(p, cls) {
  if (!p.image) return null;
  const img = document.createElement('img'); img.className = cls || 'thumb'; img.alt = ''; img.loading = 'lazy';
  img.src = '/api/items/' + encodeURIComponent(p.item_id) + '/image';
  img.onerror = () => img.remove();
  return img;
}
function cell(text, cls) { const td = document.createElement('td'); td.textContent = text; if (cls) td.className = cls; return td; }
async function loadSources() {
  const { sources } = await api('/api/sources');
  for (const s of sources) { const o = document.createElement('option'); o.value = s.id; o.textContent = s.name; $('source').append(o); }
}
function row(p) {
  const tr = document.createElement('tr'); tr.className = 'item';
  const name = cell(p.name); name.dir = 'auto'; // Arabic and Hebrew names read right to left
  const pic = thumb(p); if (pic) name.prepend(pic);
  if (p.brand) { const b = document.createElement('span'); b.className = 'muted brand'; b.textContent = p.brand; name.append(' ', b); }
  const price = cell(priceText(p), p.price ? 'num' : 'num muted');
  const badge = changeBadge(p); if (badge) price.append(badge);
  tr.append(name, cell(p.source_id, 'muted'), price, cell(new Date(p.observed_at).toLocaleString(LANG), 'muted'));
  tr.onclick = () => openItem(p);
  return tr;
}
// Search as you type: the API's ranked, typo-tolerant search; an empty box
// goes back to the paged list. Only the newest answer is shown.
let searchSeq = 0, searchTimer = null;
async function runSearch() {
  const q = $('q').value.trim();
  if (!q) { loadPrices(true); return; }
  const seq = ++searchSeq;
  const params = new URLSearchParams({ q, limit: '50' });
  if ($('source').value) params.set('source', $('source').value);
  $('status').textContent = t('searching'); $('status').className = 'muted';
  try {
    const { results } = await api('/api/search?' + params);
    if (seq !== searchSeq) return;
    $('rows').textContent = ''; $('chart').textContent = ''; $('more').hidden = true;
    for (const p of results) $('rows').append(row(p));
    $('table').hidden = results.length === 0;
    $('status').textContent = results.length ? '' : t('nothing', { q });
  } catch (e) { if (seq === searchSeq) { $('status').textContent = e.message; $('status').className = 'err'; } }
}
$('q').oninput = () => { clearTimeout(searchTimer); searchTimer = setTimeout(runSearch, 200); };
// The filter controls as /api/prices parameters; false (and a message)
// when a price bound is not a plain number, before asking the API.
function addFilters(q) {
  if ($('sort').value) q.set('sort', $('sort').value);
  if ($('avail').value) q.set('availability', $('avail').value);
  for (const [id, param] of [['min', 'min_price'], ['max', 'max_price']]) {
    const v = $(id).value.trim().replace(',', '.');
    if (!v) continue;
    if (!/^(0|[1-9][0-9]{0,11})(\.[0-9]{1,8})?$/.test(v)) { $('status').textContent = t('badnum'); $('status').className = 'err'; return false; }
    q.set(param, v);
  }
  return true;
}
// Only the newest list request draws: filters changed quickly must not
// interleave two answers' rows.
let listSeq = 0;
async function loadPrices(reset) {
  const mine = ++listSeq;
  if (reset) { cursor = null; $('rows').textContent = ''; $('chart').textContent = ''; }
  const q = new URLSearchParams({ limit: '50' });
  if ($('source').value) q.set('source', $('source').value);
  if (!addFilters(q)) return;
  if (cursor) q.set('cursor', cursor);
  try {
    const { prices, next_cursor } = await api('/api/prices?' + q);
    if (mine !== listSeq) return;
    if (reset) $('rows').textContent = '';
    for (const p of prices) $('rows').append(row(p));
    cursor = next_cursor; $('more').hidden = !cursor;
    $('table').hidden = $('rows').children.length === 0;
    $('status').textContent = $('rows').children.length ? '' : t('empty');
    $('status').className = 'muted';
  } catch (e) { $('status').textContent = e.message; $('status').className = 'err'; }
}
// An item's price history: uPlot over time (drag to zoom, the buttons pick
// a range), gaps where the source showed no price, and for an item in a
// series the series' min–max band and median over the same window.
const RANGES = [['7d', 7], ['30d', 30], ['1y', 365], ['all', 0]];
// Item pages have their own address (#item=<id>), so they can be shared
// and the back button works.
function openItem(p) { shown = p; location.hash = 'item=' + encodeURIComponent(p.item_id); }
let shown = null;
async function showHistory(p, days) {
  const chart = $('chart'); chart.textContent = '';
  const from = days ? new Date(Date.now() - days * 86400e3).toISOString() : null;
  const params = new URLSearchParams({ order: 'asc', limit: '1000' });
  if (from) params.set('from', from);
  let observations;
  try { ({ observations } = await api('/api/items/' + encodeURIComponent(p.item_id) + '/history?' + params)); }
  catch (e) { $('status').textContent = e.message; $('status').className = 'err'; return; }
  const priced = observations.filter((o) => o.price);
  const currency = priced.length ? priced[priced.length - 1].price.currency : null;
  const head = document.createElement('div'); head.className = 'item-head';
  const pic = thumb(p, 'big'); if (pic) head.append(pic);
  const h = document.createElement('h3'); h.dir = 'auto'; h.textContent = p.name + (currency ? ' (' + currency + ')' : '');
  const facts = document.createElement('div');
  facts.append(h);
  const meta = document.createElement('div'); meta.className = 'muted';
  if (p.brand) meta.append(p.brand + ' · ');
  meta.append(priceText(p) + ' · ');
  const src = document.createElement('a'); src.href = p.link; src.rel = 'noopener noreferrer'; src.target = '_blank'; src.textContent = t('open') + ' (' + p.source_id + ')';
  meta.append(src);
  if (p.series) { const s = document.createElement('a'); s.href = '#series=' + encodeURIComponent(p.series); s.textContent = t('inseries', { s: p.series }); meta.append(' · ', s); }
  facts.append(meta); head.append(facts); chart.append(head);
  chart.scrollIntoView({ block: 'nearest' });
  const bar = document.createElement('div'); bar.className = 'ranges';
  for (const [label, d] of RANGES) {
    const b = document.createElement('button'); b.textContent = label; b.className = (days || 0) === d ? 'on' : '';
    b.onclick = () => showHistory(p, d); bar.append(b);
  }
  chart.append(bar);
  // Other currencies and missing prices are gaps (null), not zeros.
  const xs = observations.map((o) => Date.parse(o.observed_at) / 1000);
  const ys = observations.map((o) => (o.price && o.price.currency === currency ? Number(o.price.amount) : null));
  const count = ys.filter((y) => y !== null).length;
  if (count < 2) { const m = document.createElement('p'); m.className = 'muted'; m.textContent = count ? t('one') : t('none'); chart.append(m); return; }
  const data = [xs, ys];
  const series = [{}, { label: t('price'), stroke: '#2a7ae2', width: 2, spanGaps: false }];
  const bands = [];
  if (p.series) {
    try {
      const win = days ? (days >= 365 ? '1y' : days + 'd') : '1y';
      const { stats } = await api('/api/series/' + encodeURIComponent(p.series) + '/stats?window=' + win);
      if (stats && stats.currency === currency) {
        const flat = (v) => xs.map(() => Number(v));
        data.push(flat(stats.max), flat(stats.median), flat(stats.min));
        series.push({ label: 'max', stroke: '#8886', width: 1 }, { label: 'median', stroke: '#888', dash: [4, 4], width: 1 }, { label: 'min', stroke: '#8886', width: 1 });
        bands.push({ series: [2, 4], fill: '#8882' });
      }
    } catch (_) { /* the item's own line is still worth showing */ }
  }
  const plot = document.createElement('div'); plot.className = 'plot'; chart.append(plot);
  new uPlot({ width: Math.min(plot.clientWidth || 900, 900), height: 260, series, bands, scales: { x: { time: true } }, cursor: { drag: { x: true, y: false } } }, data, plot);
  const vals = ys.filter((y) => y !== null);
  const cap = document.createElement('p'); cap.className = 'muted';
  cap.textContent = t('caption', { min: Math.min(...vals), max: Math.max(...vals), n: vals.length }); chart.append(cap);
}
// Views: prices (above), the jeweler board, a series with its deals.
const VIEWS = ['prices', 'gold', 'series'];
function showView(v, series) {
  for (const x of VIEWS) { $('view-' + x).hidden = x !== v; $('nav-' + x).classList.toggle('on', x === v); }
  if (v === 'gold') loadGold();
  if (v === 'series') loadSeriesList(series);
}
for (const v of VIEWS) $('nav-' + v).onclick = () => { history.replaceState(null, '', v === 'gold' ? '#gold' : location.pathname + location.search); showView(v); };
function th(text) { const e = document.createElement('th'); e.textContent = text; return e; }
function money(m) { return m ? m.amount + ' ' + m.currency : '—'; }
async function loadGold() {
  const table = $('gold'); table.textContent = ''; $('gold-note').textContent = t('loading');
  try {
    const board = await api('/api/gold');
    $('gold-note').textContent = board.jewelers.length ? '' : t('nogold');
    const head = document.createElement('tr'); head.append(th(t('jeweler')));
    for (const f of board.fineness) head.append(th(f + ' (' + t('fine') + ')'));
    table.append(head);
    for (const j of board.jewelers) {
      const tr = document.createElement('tr'); const name = cell(j.name); name.dir = 'auto'; tr.append(name);
      for (const f of board.fineness) {
        const q = j.quotes.find((x) => x.fineness === f);
        tr.append(cell(q ? priceText(q.item) : '—', 'num'));
      }
      table.append(tr);
    }
    if (board.spot) {
      // Spot in its own currency, then in each jeweler currency a rate is known for.
      const rows = [[t('spot'), board.spot.per_gram]];
      for (const c of board.spot.converted) rows.push([t('spot') + ' · ' + t('rate', { currency: c.currency, rate: c.rate.rate, base: c.rate.base }), c.per_gram]);
      for (const [label, perGram] of rows) {
        const tr = document.createElement('tr'); tr.className = 'spot'; tr.append(cell(label));
        for (const f of board.fineness) { const s = perGram.find((x) => x.fineness === f); tr.append(cell(s ? money(s.price) : '—', 'num muted')); }
        table.append(tr);
      }
    }
  } catch (e) { $('gold-note').textContent = e.message; $('gold-note').className = 'err'; }
}
async function loadSeriesList(wanted) {
  const pick = $('series-pick');
  if (pick.options.length) { if (wanted) pick.value = wanted; return loadSeries(wanted || pick.value); }
  try {
    const { series } = await api('/api/series');
    for (const s of series) { const o = document.createElement('option'); o.value = s.series; o.textContent = s.series + ' (' + s.items + ')'; pick.append(o); }
    pick.onchange = () => { location.hash = 'series=' + encodeURIComponent(pick.value); };
    if (wanted) pick.value = wanted;
    if (wanted || series.length) loadSeries(wanted || series[0].series); else $('series-stats').textContent = t('nostats');
  } catch (e) { $('series-stats').textContent = e.message; $('series-stats').className = 'err'; }
}
async function loadSeries(id) {
  const table = $('series-items'); table.textContent = ''; $('series-stats').textContent = t('loading'); $('series-stats').className = 'muted';
  try {
    const s = await api('/api/series/' + encodeURIComponent(id) + '?window=30d');
    $('series-stats').textContent = s.stats ? t('stats', s.stats) : t('nostats');
    const head = document.createElement('tr'); head.append(th(t('item')), th(t('price')), th(t('deal')));
    table.append(head);
    for (const it of s.items) {
      const tr = row(it);
      tr.onclick = () => openItem(it);
      const d = it.deal;
      const dealCell = cell(d ? (d.outlier ? t('outlier') : d.score + ' · ' + d.vs_median_percent + '%') : '—', 'num');
      if (d && d.outlier) tr.classList.add('outlier');
      if (d && d.score >= 60) dealCell.classList.add('good');
      tr.replaceChildren(tr.children[0], tr.children[2], dealCell);
      table.append(tr);
    }
  } catch (e) { $('series-stats').textContent = e.message; $('series-stats').className = 'err'; }
}
$('source').onchange = () => ($('q').value.trim() ? runSearch() : loadPrices(true));
for (const id of ['sort', 'avail']) $(id).onchange = () => loadPrices(true);
for (const id of ['min', 'max']) $(id).onchange = () => loadPrices(true);
$('more').onclick = () => loadPrices(false);
// Addresses: #item=<id>, #series=<id>, #gold; anything else is the list.
async function route() {
  const h = new URLSearchParams(location.hash.slice(1));
  if (h.has('item')) {
    showView('prices');
    const id = h.get('item');
    if (shown && shown.item_id === id) return showHistory(shown);
    try { const { item } = await api('/api/items/' + encodeURIComponent(id)); shown = item; showHistory(item); }
    catch (e) { $('status').textContent = e.message; $('status').className = 'err'; }
  } else if (h.has('series')) {
    showView('series', h.get('series'));
  } else if (location.hash === '#gold') showView('gold');
}
window.addEventListener('hashchange', route);
loadSources().catch(() => {}).finally(() => { loadPrices(true); route(); });
