// The cpn network map: routers, links and compute sites of the running scenario, drawn in one
// SVG from GET /api/v1/map (refreshed every two seconds), and a form that asks the controller
// for a decision with POST /api/v1/route. Vanilla JavaScript, nothing fetched but the API.
//
// Every API call carries the bearer token. It arrives once in the URL fragment (#token=...),
// is kept in sessionStorage and removed from the address bar so it is not bookmarked or shared.
'use strict';

(() => {
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const REFRESH_MS = 2000;
  const TOKEN_KEY = 'cpn-token';
  const VIEW_W = 1000;        // viewBox width; the height follows the map's aspect ratio
  const MARGIN = 48;          // room for labels and site markers at the edges
  const MAX_INNER_H = 760;    // a very tall map is fitted to this height instead of the width
  const SITE_OFFSET = 15;     // distance of a site marker from its router
  const NO_COORDS_ROW = 64;   // extra height for the row of routers without coordinates

  const state = {
    token: null,
    map: null,              // last body of GET /api/v1/map
    layoutKey: '',          // topology signature: the SVG is rebuilt only when it changes
    selectsKey: '',         // same for the form's router and service lists
    pos: new Map(),         // router name -> [x, y] in viewBox units
    el: { router: new Map(), link: new Map(), site: new Map() },
    linkByPair: new Map(),  // "a|b" (names sorted) -> link name
    selected: null,         // { kind, name } shown in the details panel
    submitted: [],          // router path of the user's last decision, kept across refreshes
    chosenSite: null,
    geom: [],               // how to position each element, see place()
    labels: [],             // router labels, placed apart by placeLabels()
    view: { k: 1, tx: 0, ty: 0 },  // zoom factor and pan offset, in viewBox units
    timer: 0,
  };

  const $ = (sel) => document.querySelector(sel);

  // Builds an element: an SVG one for SVG tag names unless `svg: false`; `text` sets the
  // text content (never HTML, so names from the server cannot inject markup).
  function h(tag, attrs = {}, ...children) {
    const svg = ['svg', 'g', 'line', 'circle', 'rect', 'path', 'text', 'title'].includes(tag) &&
      attrs.svg !== false;
    const el = svg ? document.createElementNS(SVG_NS, tag) : document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === 'svg' || v == null) continue;
      if (k === 'text') el.textContent = v;
      else el.setAttribute(k, v);
    }
    for (const c of children) if (c != null) el.append(c);
    return el;
  }
  const html = (tag, attrs, ...children) => h(tag, { ...attrs, svg: false }, ...children);

  // ---- formatting ------------------------------------------------------------------------

  function fmtUs(us) {
    if (us == null) return '—';
    if (us < 1000) return `${Math.round(us)} µs`;
    return `${(us / 1000).toFixed(us < 10000 ? 2 : 1)} ms`;
  }
  const pct = (f) => (f == null ? '—' : `${Math.round(f * 100)}%`);
  const upDown = (up) => (up ? 'up' : 'down (failed)');
  const labelOf = (x) => x.label || x.name;
  const pairKey = (a, b) => (a < b ? `${a}|${b}` : `${b}|${a}`);

  // Green → amber → red for a fraction 0..1; grey when unknown.
  const STOPS = [[63, 185, 80], [210, 153, 34], [248, 81, 73]];
  function heat(f) {
    if (f == null || Number.isNaN(f)) return 'rgb(110,118,129)';
    const t = Math.min(Math.max(f, 0), 1) * 2;
    const i = Math.min(1, Math.floor(t));
    const u = t - i;
    const c = STOPS[i].map((v, j) => Math.round(v + (STOPS[i + 1][j] - v) * u));
    return `rgb(${c.join(',')})`;
  }

  // ---- token and API ---------------------------------------------------------------------

  function initToken() {
    const m = /(?:^#|&)token=([^&]*)/.exec(location.hash);
    if (m) {
      sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1]));
      history.replaceState(null, '', location.pathname + location.search);
    }
    state.token = sessionStorage.getItem(TOKEN_KEY);
  }

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  async function api(method, path, body) {
    const headers = { Authorization: `Bearer ${state.token}` };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let res;
    try {
      res = await fetch(path, {
        method, headers, cache: 'no-store',
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new ApiError(0, 'unreachable', 'cannot reach the cpn server');
    }
    const text = await res.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch { /* reported below */ }
    if (!res.ok) {
      throw new ApiError(res.status, data?.code ?? `http_${res.status}`,
        data?.message ?? (text.slice(0, 200) || res.statusText));
    }
    if (data === null) throw new ApiError(res.status, 'bad_response', 'the server did not answer with JSON');
    return data;
  }

  function showError(msg) {
    const el = $('#error');
    el.hidden = !msg;
    el.textContent = msg || '';
  }

  // A 401 means the token is missing or wrong: forget it and ask for another.
  function handleApiError(e, what) {
    if (e.status === 401) {
      sessionStorage.removeItem(TOKEN_KEY);
      state.token = null;
      showTokenForm();
    }
    showError(`${what}: ${e.message}${e.code ? ` (${e.code})` : ''}`);
  }

  function showTokenForm() {
    $('#token-form').hidden = false;
    setStatus('not connected', 'bad');
  }

  function setStatus(text, kind = '') {
    const el = $('#status');
    el.textContent = text;
    el.className = `status ${kind}`;
  }

  // ---- refresh loop ----------------------------------------------------------------------

  // The next refresh is scheduled after the previous one finished, so a slow server never
  // has two map requests from one page in flight.
  async function refresh() {
    clearTimeout(state.timer);
    if (!state.token) { showTokenForm(); return; }
    try {
      const map = await api('GET', '/api/v1/map');
      state.map = map;
      render(map);
      showError(null);
      setStatus(`live · ${new Date().toLocaleTimeString()}`, 'ok');
    } catch (e) {
      handleApiError(e, 'map');
      if (e.status === 401) return;
      setStatus('connection lost, retrying', 'bad');
    }
    state.timer = setTimeout(refresh, REFRESH_MS);
  }

  function render(map) {
    $('#scenario').textContent = map.scenario ?? '—';
    for (const k of ['decisions', 'rejections', 'reservations', 'agents_up']) {
      $(`#t-${k}`).textContent = map.totals?.[k] ?? '–';
    }
    const key = JSON.stringify([
      map.routers.map((r) => [r.name, r.lat, r.lon]),
      map.links.map((l) => [l.name, l.a, l.b]),
      map.sites.map((s) => [s.name, s.router, s.tier]),
    ]);
    if (key !== state.layoutKey) {
      build(map);
      state.layoutKey = key;
    }
    fillSelects(map);
    update(map);
    renderRecent(map);
    renderMeasured(map);
    if (state.selected) showDetails();
  }

  // ---- layout ----------------------------------------------------------------------------

  // Equirectangular projection (x = lon·cos φ0, y = −lat, φ0 the middle latitude) fitted to the
  // bounding box of the coordinates. Routers without coordinates go in a row at the bottom.
  function layout(routers) {
    const geo = routers.filter((r) => r.lat != null && r.lon != null);
    const lost = routers.filter((r) => r.lat == null || r.lon == null);
    const lats = geo.map((r) => r.lat), lons = geo.map((r) => r.lon);
    const minLat = geo.length ? Math.min(...lats) : 0, maxLat = geo.length ? Math.max(...lats) : 0;
    const minLon = geo.length ? Math.min(...lons) : 0, maxLon = geo.length ? Math.max(...lons) : 0;
    const k = Math.cos(((minLat + maxLat) / 2) * Math.PI / 180);
    // At least one degree each way, so one router (or a line of them) still gets a finite scale.
    const spanX = Math.max((maxLon - minLon) * k, 1), spanY = Math.max(maxLat - minLat, 1);
    const innerW = VIEW_W - 2 * MARGIN;
    const scale = Math.min(innerW / spanX, MAX_INNER_H / spanY);
    const drawnH = geo.length ? spanY * scale : 0;
    const offX = MARGIN + (innerW - (maxLon - minLon) * k * scale) / 2;
    const offY = MARGIN + (drawnH - (maxLat - minLat) * scale) / 2;
    const pos = new Map();
    for (const r of geo) {
      pos.set(r.name, [offX + (r.lon - minLon) * k * scale, offY + (maxLat - r.lat) * scale]);
    }
    let height = drawnH + 2 * MARGIN;
    let rowY = null;
    if (lost.length) {
      rowY = height + NO_COORDS_ROW / 2 - MARGIN / 2;
      const step = Math.min(90, innerW / lost.length);
      lost.forEach((r, i) => pos.set(r.name, [MARGIN + step * (i + 0.5), rowY]));
      height += NO_COORDS_ROW;
    }
    return { pos, height, rowY };
  }

  const TIER_SHAPE = {
    cloud: () => h('rect', { class: 'shape', x: -6, y: -6, width: 12, height: 12, rx: 2 }),
    edge: () => h('path', { class: 'shape', d: 'M0 -7.5 L7.5 0 L0 7.5 L-7.5 0 Z' }),
    end: () => h('path', { class: 'shape', d: 'M0 -6.5 L6.5 5.5 L-6.5 5.5 Z' }),
  };

  // Rebuilds every SVG element; called on the first map and when the topology changes.
  // Positions are set apart, by place(), so zooming moves elements without rebuilding them.
  function build(map) {
    const layers = ['links', 'spokes', 'routers', 'sites', 'labels'].map((n) => $(`#layer-${n}`));
    for (const l of layers) l.replaceChildren();
    const [gLinks, gSpokes, gRouters, gSites, gLabels] = layers;
    for (const m of Object.values(state.el)) m.clear();
    state.linkByPair.clear();
    state.geom = [];
    state.labels = [];

    const { pos, height, rowY } = layout(map.routers);
    state.pos = pos;
    $('#map').setAttribute('viewBox', `0 0 ${VIEW_W} ${Math.round(height)}`);
    // Each geometry entry is (element, router name, fixed offset, how to position it).
    const at = (el, router, dx, dy, kind) => state.geom.push({ el, router, dx, dy, kind });
    if (rowY != null) {
      const note = h('text', { class: 'note', text: 'routers without coordinates' });
      gLabels.append(note);
      // Anchored to the first router of the row, so it moves with it when zooming.
      at(note, map.routers.find((r) => r.lat == null || r.lon == null).name, -20, -16, 'xy');
    }

    for (const l of map.links) {
      if (!pos.has(l.a) || !pos.has(l.b)) continue;
      if (!state.linkByPair.has(pairKey(l.a, l.b))) state.linkByPair.set(pairKey(l.a, l.b), l.name);
      const hit = h('line', { class: 'hit' });   // wide and invisible, so a thin link is easy to click
      const wire = h('line', { class: 'wire' });
      const x = h('text', { class: 'x', text: '✕' });
      const g = h('g', { class: 'link', 'data-link': l.name, tabindex: 0, role: 'button' }, hit, wire, x, h('title'));
      gLinks.append(g);
      state.el.link.set(l.name, g);
      state.geom.push({ kind: 'line', els: [hit, wire], x, a: l.a, b: l.b });
    }

    for (const r of map.routers) {
      const g = h('g', { class: 'router', 'data-router': r.name, tabindex: 0, role: 'button' },
        h('circle', { class: 'ring', r: 9 }),  // a larger target for the pointer
        h('circle', { class: 'dot', r: 4.5 }),
        h('text', { class: 'x', text: '✕' }),
        h('title'));
      gRouters.append(g);
      state.el.router.set(r.name, g);
      at(g, r.name, 0, 0, 'translate');
      const label = h('text', { class: 'label', text: r.name });
      gLabels.append(label);
      state.labels.push({ el: label, router: r.name, width: r.name.length * 5.9 });
    }

    // Sites sit on a small circle around their router, one direction each, so that several
    // sites at one router stay visible and clickable; a spoke joins each to its router.
    const byRouter = new Map();
    for (const s of map.sites) {
      if (!pos.has(s.router)) continue;
      if (!byRouter.has(s.router)) byRouter.set(s.router, []);
      byRouter.get(s.router).push(s);
    }
    for (const [router, sites] of byRouter) {
      sites.forEach((s, i) => {
        const angle = -Math.PI / 4 - (2 * Math.PI * i) / sites.length;
        const dx = SITE_OFFSET * Math.cos(angle), dy = SITE_OFFSET * Math.sin(angle);
        const spoke = h('line', { class: 'spoke' });
        gSpokes.append(spoke);
        state.geom.push({ kind: 'spoke', el: spoke, router, dx, dy });
        const shape = (TIER_SHAPE[s.tier] ?? TIER_SHAPE.edge)();
        const g = h('g', { class: `site tier-${s.tier}`, 'data-site': s.name, tabindex: 0, role: 'button' },
          shape, h('text', { class: 'x', text: '✕' }), h('title'));
        gSites.append(g);
        state.el.site.set(s.name, g);
        at(g, router, dx, dy, 'translate');
      });
    }
    for (const [kind, m] of Object.entries(state.el)) {
      for (const [name, el] of m) el.setAttribute('aria-label', `${kind} ${name}`);
    }
    place();
  }

  // Positions every element for the current zoom: router positions are scaled, while markers,
  // labels and site offsets keep their size, so zooming in pulls crowded places apart.
  function place() {
    const { k, tx, ty } = state.view;
    const P = (name) => { const [x, y] = state.pos.get(name); return [x * k + tx, y * k + ty]; };
    const f = (v) => v.toFixed(1);
    for (const g of state.geom) {
      if (g.kind === 'line') {
        const [x1, y1] = P(g.a), [x2, y2] = P(g.b);
        for (const el of g.els) {
          el.setAttribute('x1', f(x1)); el.setAttribute('y1', f(y1));
          el.setAttribute('x2', f(x2)); el.setAttribute('y2', f(y2));
        }
        g.x.setAttribute('x', f((x1 + x2) / 2)); g.x.setAttribute('y', f((y1 + y2) / 2));
        continue;
      }
      const [x, y] = P(g.router);
      if (g.kind === 'translate') g.el.setAttribute('transform', `translate(${f(x + g.dx)},${f(y + g.dy)})`);
      else if (g.kind === 'xy') { g.el.setAttribute('x', f(x + g.dx)); g.el.setAttribute('y', f(y + g.dy)); }
      else {
        g.el.setAttribute('x1', f(x)); g.el.setAttribute('y1', f(y));
        g.el.setAttribute('x2', f(x + g.dx)); g.el.setAttribute('y2', f(y + g.dy));
      }
    }
    placeLabels(P);
  }

  // Each router label takes the first of four places around its router that covers no marker
  // and no label placed before it, or else the least crowded one. Greedy, and cheap enough to
  // run on every zoom step.
  const LABEL_SPOTS = [[7, 14, 'start'], [7, -8, 'start'], [-7, 14, 'end'], [-7, -8, 'end']];
  function placeLabels(P) {
    const boxes = state.geom.filter((g) => g.kind === 'translate').map((g) => {
      const [x, y] = P(g.router);
      return [x + g.dx - 7, y + g.dy - 7, x + g.dx + 7, y + g.dy + 7];
    });
    const hits = (b) => boxes.filter((o) => b[0] < o[2] && o[0] < b[2] && b[1] < o[3] && o[1] < b[3]).length;
    for (const l of state.labels) {
      const [x, y] = P(l.router);
      let best = null;
      for (const [dx, dy, anchor] of LABEL_SPOTS) {
        const x0 = anchor === 'start' ? x + dx : x + dx - l.width;
        const box = [x0, y + dy - 9, x0 + l.width, y + dy + 2];
        const n = hits(box);
        if (!best || n < best.n) best = { n, box, x: x + dx, y: y + dy, anchor };
        if (n === 0) break;
      }
      boxes.push(best.box);
      l.el.setAttribute('x', best.x.toFixed(1));
      l.el.setAttribute('y', best.y.toFixed(1));
      l.el.setAttribute('text-anchor', best.anchor);
    }
  }

  // ---- zoom and pan ------------------------------------------------------------------------

  // The wheel zooms around the pointer, a drag pans, a double click resets. A drag that moved
  // is not also a click, so panning never selects what is under the pointer.
  function initZoom() {
    const svg = $('#map');
    const toView = (ev) => {
      const m = svg.getScreenCTM().inverse();
      return [m.a * ev.clientX + m.c * ev.clientY + m.e, m.b * ev.clientX + m.d * ev.clientY + m.f];
    };
    svg.addEventListener('wheel', (ev) => {
      ev.preventDefault();
      const [px, py] = toView(ev);
      const v = state.view;
      const k = Math.min(16, Math.max(1, v.k * Math.exp(-ev.deltaY * 0.0015)));
      v.tx = px - ((px - v.tx) * k) / v.k;
      v.ty = py - ((py - v.ty) * k) / v.k;
      v.k = k;
      if (k === 1) { v.tx = 0; v.ty = 0; }
      place();
    }, { passive: false });
    let drag = null;
    svg.addEventListener('pointerdown', (ev) => {
      if (ev.button !== 0) return;
      drag = { start: toView(ev), tx: state.view.tx, ty: state.view.ty, moved: false, id: ev.pointerId };
    });
    svg.addEventListener('pointermove', (ev) => {
      if (!drag || state.view.k === 1) return;
      const [x, y] = toView(ev);
      const dx = x - drag.start[0], dy = y - drag.start[1];
      if (!drag.moved && Math.hypot(dx, dy) < 4) return;
      if (!drag.moved) svg.setPointerCapture(drag.id);
      drag.moved = true;
      state.view.tx = drag.tx + dx;
      state.view.ty = drag.ty + dy;
      place();
    });
    svg.addEventListener('pointerup', () => { setTimeout(() => { drag = null; }); });
    svg.addEventListener('click', (ev) => {
      if (drag?.moved) { ev.stopImmediatePropagation(); return; }
      select(ev.target);
    });
    svg.addEventListener('dblclick', () => {
      state.view = { k: 1, tx: 0, ty: 0 };
      place();
    });
  }

  // Router names along a path -> the names of the links joining consecutive routers.
  function pathLinks(path) {
    const out = [];
    for (let i = 1; i < (path?.length ?? 0); i++) {
      const n = state.linkByPair.get(pairKey(path[i - 1], path[i]));
      if (n) out.push(n);
    }
    return out;
  }

  // Updates colours, states and highlights in place; cheap enough to run on every refresh.
  function update(map) {
    const recent = new Set(map.decisions?.flatMap((d) => pathLinks(d.path)) ?? []);
    const onPath = new Set(pathLinks(state.submitted));
    const onPathRouters = new Set(state.submitted);
    const sel = state.selected;
    const isSel = (kind, name) => sel?.kind === kind && sel.name === name;

    for (const l of map.links) {
      const g = state.el.link.get(l.name);
      if (!g) continue;
      g.style.setProperty('--heat', heat(l.utilisation));
      g.classList.toggle('failed', !l.up);
      g.classList.toggle('recent', recent.has(l.name));
      g.classList.toggle('on-path', onPath.has(l.name));
      g.classList.toggle('selected', isSel('link', l.name));
      g.querySelector('title').textContent =
        `${l.name}: ${l.bandwidth}, ${fmtUs(l.latency_us)}, ${pct(l.utilisation)} used${l.up ? '' : ', DOWN'}`;
    }
    for (const r of map.routers) {
      const g = state.el.router.get(r.name);
      g.classList.toggle('failed', !r.up);
      g.classList.toggle('on-path', onPathRouters.has(r.name));
      g.classList.toggle('selected', isSel('router', r.name));
      g.querySelector('title').textContent = `${labelOf(r)}${r.up ? '' : ' (DOWN)'}`;
    }
    for (const s of map.sites) {
      const g = state.el.site.get(s.name);
      g.style.setProperty('--heat', heat(s.load));
      g.classList.toggle('failed', !s.up);
      g.classList.toggle('chosen', s.name === state.chosenSite);
      g.classList.toggle('selected', isSel('site', s.name));
      g.querySelector('title').textContent =
        `${labelOf(s)} (${s.tier}): load ${pct(s.load)}${s.up ? '' : ', DOWN'}`;
    }
  }

  // ---- form ------------------------------------------------------------------------------

  function setOptions(select, items, keepFirst = 0) {
    const old = select.value;
    while (select.options.length > keepFirst) select.remove(keepFirst);
    for (const [value, text] of items) select.append(new Option(text, value));
    if ([...select.options].some((o) => o.value === old)) select.value = old;
  }

  function fillSelects(map) {
    const key = JSON.stringify([map.routers.map((r) => [r.name, r.label]), map.services.map((s) => s.name)]);
    if (key === state.selectsKey) return;
    const first = !state.selectsKey;
    state.selectsKey = key;
    const routers = [...map.routers].sort((a, b) => a.name.localeCompare(b.name));
    setOptions($('#from'), routers.map((r) => [r.name, r.label ? `${r.name} — ${r.label}` : r.name]));
    setOptions($('#service'), map.services.map((s) => [s.name, s.name]), 1);
    if (first && map.services.length) $('#service').value = map.services[0].name;
    syncDemand();
  }

  // A request names a service or a raw demand, never both: the demand field is enabled only
  // when no service is chosen.
  function syncDemand() {
    const raw = $('#service').value === '';
    $('#demand').disabled = !raw;
    $('#demand').required = raw;
  }

  async function submitRoute(ev) {
    ev.preventDefault();
    const body = { from: $('#from').value };
    for (const f of ['service', 'demand', 'max_latency', 'min_bandwidth', 'objective']) {
      const el = $(`#${f}`);
      const v = el.disabled ? '' : el.value.trim();
      if (v) body[f] = v;
    }
    const button = $('#submit');
    button.disabled = true;
    try {
      const d = await api('POST', '/api/v1/route', body);
      state.submitted = d.feasible ? d.path ?? [] : [];
      state.chosenSite = d.feasible ? d.site : null;
      showDecision(d, body);
    } catch (e) {
      state.submitted = [];
      state.chosenSite = null;
      const panel = $('#decision');
      panel.dataset.state = 'error';
      panel.replaceChildren(html('h2', { text: 'Decision' }),
        html('p', { class: 'refused', text: `Request failed: ${e.message}${e.code ? ` (${e.code})` : ''}` }));
      if (e.status === 401) handleApiError(e, 'route');
    } finally {
      button.disabled = false;
      if (state.map) update(state.map);
    }
  }

  function table(head, rows) {
    return html('table', {},
      html('thead', {}, html('tr', {}, ...head.map((t) => html('th', { text: t })))),
      html('tbody', {}, ...rows));
  }

  function showDecision(d, req) {
    const panel = $('#decision');
    panel.dataset.state = d.feasible ? 'feasible' : 'infeasible';
    const parts = [html('h2', { text: `Decision #${d.id}` }),
      html('p', { class: 'muted', text: `${req.service ?? req.demand} from ${req.from}` })];
    if (d.feasible) {
      const L = d.latency ?? {};
      parts.push(
        html('p', { class: 'chosen-site' }, 'Runs at ', html('strong', { text: d.site })),
        html('p', { class: 'path', text: d.path.join(' → ') }),
        html('dl', { class: 'kv latency' }, ...[
          ['total', L.total_us], ['network', L.network_us],
          ['processing', L.processing_us], ['queueing', L.queueing_us],
        ].flatMap(([k, v]) => [html('dt', { text: k }), html('dd', { text: fmtUs(v) })])));
    } else {
      parts.push(html('p', { class: 'refused', text: `Refused: ${d.reason ?? 'no reason given'}` }));
    }
    const cands = d.candidates ?? [];
    if (cands.length) {
      parts.push(html('h3', { text: 'Candidates' }), table(['site', 'ok', 'latency', 'score', 'reason'],
        cands.map((c) => html('tr', { class: c.chosen ? 'chosen' : c.feasible ? '' : 'infeasible' },
          html('td', { text: c.site }),
          html('td', { text: c.chosen ? '★' : c.feasible ? '✓' : '✕' }),
          html('td', { class: 'num', text: fmtUs(c.latency_us) }),
          html('td', { class: 'num', text: c.score == null ? '—' : c.score.toFixed(3) }),
          html('td', { text: c.reason ?? '' })))));
    }
    panel.replaceChildren(...parts);
  }

  // ---- details and recent decisions -------------------------------------------------------

  function showDetails() {
    const panel = $('#details');
    const { kind, name } = state.selected;
    const m = state.map;
    const find = (list) => list.find((x) => x.name === name);
    let rows;
    if (kind === 'router') {
      const r = find(m.routers);
      rows = r && [
        ['name', r.name], ['label', labelOf(r)], ['status', upDown(r.up)],
        ['position', r.lat == null || r.lon == null ? 'no coordinates' : `${r.lat}°, ${r.lon}°`],
        ['links', m.links.filter((l) => l.a === name || l.b === name).map((l) => l.name).join(', ') || '—'],
        ['sites', m.sites.filter((s) => s.router === name).map((s) => s.name).join(', ') || '—'],
      ];
    } else if (kind === 'link') {
      const l = find(m.links);
      rows = l && [
        ['name', l.name], ['joins', `${l.a} — ${l.b}`], ['status', upDown(l.up)],
        ['bandwidth', l.bandwidth], ['latency', fmtUs(l.latency_us)], ['utilisation', pct(l.utilisation)],
      ];
    } else {
      const s = find(m.sites);
      rows = s && [
        ['name', s.name], ['label', labelOf(s)], ['tier', s.tier], ['router', s.router],
        ['status', upDown(s.up)], ['load', pct(s.load)], ['compute', s.compute ?? '—'],
        ['price', s.price ?? '—'], ['carbon', s.carbon_g_per_kwh == null ? '—' : `${s.carbon_g_per_kwh} g/kWh`],
        ['agents', s.agents ?? '—'],
        ['services', m.services.filter((v) => v.sites.includes(name)).map((v) => v.name).join(', ') || '—'],
      ];
    }
    panel.dataset.kind = kind;
    panel.replaceChildren(html('h2', { text: `Details · ${kind}` }), rows
      ? html('dl', { class: 'kv' }, ...rows.flatMap(([k, v]) => [html('dt', { text: k }), html('dd', { text: String(v) })]))
      : html('p', { class: 'muted', text: `${kind} ${name} is no longer on the map` }));
  }

  function renderRecent(map) {
    const list = $('#recent');
    const items = (map.decisions ?? []).map((d) => html('li', {},
      html('span', { class: 'id', text: `#${d.id}` }), ' ',
      html('strong', { text: d.site }), ' ',
      html('span', { class: 'muted', text: `from ${d.path?.[0] ?? '?'} · ${fmtUs(d.latency_us)}` })));
    if (!items.length) items.push(html('li', { class: 'muted', text: 'none yet' }));
    list.replaceChildren(...items);
  }

  // Delays the data plane's probes measured along held reservations' paths (forwarding time
  // in the emulation, not the links' latency that decisions use). A click shows the path.
  function renderMeasured(map) {
    const list = $('#measured');
    const items = (map.measured ?? []).map((m) => {
      const d = m.delay;
      const oneWay = d.forward_ns == null || d.backward_ns == null
        ? '' : ` (→ ${fmtUs(d.forward_ns / 1000)}, ← ${fmtUs(d.backward_ns / 1000)})`;
      const li = html('li', { 'data-reservation': String(m.reservation), tabindex: '0' },
        html('span', { class: 'id', text: `#${m.reservation}` }), ' ',
        html('strong', { text: m.site }), ' ',
        html('span', { text: `RTT ${fmtUs(d.round_trip_ns / 1000)}${oneWay}` }), ' ',
        html('span', { class: 'muted', text: `${m.name} · ${m.path.join(' → ')}` }));
      li.addEventListener('click', () => {
        state.submitted = m.path;
        state.chosenSite = m.site;
        if (state.map) update(state.map);
      });
      return li;
    });
    if (!items.length) items.push(html('li', { class: 'muted', text: 'none measured' }));
    list.replaceChildren(...items);
  }

  function select(target) {
    const el = target.closest('[data-router],[data-link],[data-site]');
    if (!el) return;
    const kind = el.dataset.router != null ? 'router' : el.dataset.link != null ? 'link' : 'site';
    state.selected = { kind, name: el.dataset[kind] };
    if (state.map) { update(state.map); showDetails(); }
  }

  // ---- start -----------------------------------------------------------------------------

  function start() {
    initToken();
    initZoom();
    $('#map').addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); select(ev.target); }
    });
    $('#route-form').addEventListener('submit', submitRoute);
    $('#service').addEventListener('change', syncDemand);
    $('#service').append(new Option('— raw demand —', ''));
    $('#token-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const t = $('#token').value.trim();
      if (!t) return;
      sessionStorage.setItem(TOKEN_KEY, t);
      state.token = t;
      $('#token').value = '';
      $('#token-form').hidden = true;
      showError(null);
      refresh();
    });
    refresh();
  }

  start();
})();
