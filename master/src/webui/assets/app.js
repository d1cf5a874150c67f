// The Mesos web UI: plain JavaScript, no libraries, every URL relative to the page (so it works
// behind a proxy that serves the master under a path prefix).
//
// Data flow: one GET of master/state, then the operator event stream (POST api/v1
// {"type":"SUBSCRIBE"}, RecordIO) applies task, agent and framework events to that snapshot as
// they happen. A master without the stream (or a broken stream) is polled instead. Agent pages,
// the sandbox browser and the log viewer go through the master's agent proxy
// (agent/<agent id>/...), so only the master needs to be reachable.
'use strict';

const TERMINAL = new Set(['TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_LOST', 'TASK_ERROR',
  'TASK_DROPPED', 'TASK_GONE', 'TASK_GONE_BY_OPERATOR']);
const TASK_STATES = ['TASK_STAGING', 'TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_FINISHED',
  'TASK_KILLED', 'TASK_FAILED', 'TASK_LOST', 'TASK_UNREACHABLE'];
const RESOURCES = ['cpus', 'gpus', 'mem', 'disk'];
const PAGE_SIZE = 50;
const LOG_PAGE = 8 * 4096;
const LOG_KEEP = 50000;

// ---------------------------------------------------------------------------------------------
// Small helpers.

const $ = (sel, root) => (root || document).querySelector(sel);
const esc = (v) => String(v == null ? '' : v).replace(/[&<>"']/g,
  (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const q = encodeURIComponent;

async function getJSON(url) {
  const response = await fetch(url, { headers: { Accept: 'application/json' } });
  if (!response.ok) {
    const text = await response.text();
    const error = new Error(`${url}: ${response.status} ${text}`);
    error.status = response.status;
    throw error;
  }
  return response.json();
}

function shortId(id) {
  const s = String(id || '');
  const parts = s.split('-');
  return parts.length > 3 ? '…' + parts.slice(-2).join('-') : s;
}

function idCell(id, href) {
  const text = esc(shortId(id));
  const label = href ? `<a href="${esc(href)}" title="${esc(id)}">${text}</a>` : `<span title="${esc(id)}">${text}</span>`;
  return `<span class="id">${label}</span><button class="copy" data-copy="${esc(id)}" title="Copy ${esc(id)}">copy</button>`;
}

function bytes(mb) {
  let v = Number(mb || 0) * 1024 * 1024;
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i += 1; }
  return `${v.toFixed(v >= 10 || i === 0 ? 0 : 1)} ${units[i]}`;
}

function num(v) {
  const n = Number(v || 0);
  return Number.isInteger(n) ? String(n) : n.toFixed(2);
}

function res(r, name) { return Number((r || {})[name] || 0); }

function fmtRes(r, name) { return name === 'mem' || name === 'disk' ? bytes(res(r, name)) : num(res(r, name)); }

function addRes(a, b) {
  const out = Object.assign({}, a);
  for (const k of RESOURCES) out[k] = res(a, k) + res(b, k);
  return out;
}

function subRes(a, b) {
  const out = {};
  for (const k of RESOURCES) out[k] = Math.max(0, res(a, k) - res(b, k));
  return out;
}

// Times: relative by default, absolute on click (remembered).
let absoluteTimes = localStorage.getItem('mesos.absoluteTimes') === '1';

function timeCell(secs) {
  if (!secs) return '-';
  const d = new Date(secs * 1000);
  const iso = d.toISOString();
  return `<time datetime="${iso}" title="${esc(absoluteTimes ? relative(secs) : iso)}">${esc(absoluteTimes ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : relative(secs))}</time>`;
}

function relative(secs) {
  const delta = Date.now() / 1000 - secs;
  const a = Math.abs(delta);
  const [n, unit] = a < 60 ? [a, 'second'] : a < 3600 ? [a / 60, 'minute'] : a < 86400 ? [a / 3600, 'hour'] : [a / 86400, 'day'];
  const r = Math.floor(n);
  const text = `${r} ${unit}${r === 1 ? '' : 's'}`;
  return delta >= 0 ? `${text} ago` : `in ${text}`;
}

function stateCell(state) {
  return `<span class="state-${esc(state)}">${esc(String(state || '').replace(/^TASK_/, ''))}</span>`;
}

function startTime(task) {
  const s = (task.statuses || []).find((st) => !TERMINAL.has(st.state));
  return s ? s.timestamp : (task.statuses && task.statuses[0] ? task.statuses[0].timestamp : 0);
}

function stopTime(task) {
  const s = task.statuses || [];
  return s.length ? s[s.length - 1].timestamp : 0;
}

function sandboxPath(task) {
  // The command executor's id is the task's id.
  const executor = task.executor_id || task.id;
  return `/frameworks/${task.framework_id}/executors/${executor}/runs/latest`;
}

function browseHref(agentId, path) { return `#/agents/${q(agentId)}/browse?path=${q(path)}`; }
function viewHref(agentId, path) { return `#/agents/${q(agentId)}/view?path=${q(path)}`; }
function agentFiles(agentId) { return agentId ? `agent/${q(agentId)}/files` : 'files'; }

// ---------------------------------------------------------------------------------------------
// The model: master/state, kept current by events or polling.

const model = {
  big: false,
  state: null,
  error: null,
  mode: 'connecting',
  version: 0,
  indexes: null,
};

function rebuildIndexes() {
  const s = model.state;
  const frameworks = new Map();
  const agents = new Map();
  for (const f of s.frameworks || []) frameworks.set(f.id, f);
  for (const f of s.completed_frameworks || []) if (!frameworks.has(f.id)) frameworks.set(f.id, f);
  for (const a of s.slaves || []) agents.set(a.id, a);
  model.indexes = { frameworks, agents };
}

function setState(state) {
  for (const f of state.frameworks || []) {
    f.tasks = f.tasks || []; f.completed_tasks = f.completed_tasks || []; f.unreachable_tasks = f.unreachable_tasks || [];
  }
  model.state = state;
  model.error = null;
  rebuildIndexes();
  changed();
}

function allTasks() {
  const out = [];
  const s = model.state;
  if (!s) return out;
  for (const f of (s.frameworks || []).concat(s.completed_frameworks || [])) {
    for (const t of f.tasks || []) out.push([t, 'active', f]);
    for (const t of f.unreachable_tasks || []) out.push([t, 'unreachable', f]);
    for (const t of f.completed_tasks || []) out.push([t, 'completed', f]);
  }
  return out;
}

let renderQueued = false;
function changed() {
  model.version += 1;
  if (renderQueued) return;
  renderQueued = true;
  setTimeout(() => { renderQueued = false; refresh(); }, 100);
}

// v1 (operator API) objects to the legacy /master/state shapes the pages use.
function v1Resources(list) {
  const out = {};
  for (const r of list || []) if (r.scalar) out[r.name] = (out[r.name] || 0) + Number(r.scalar.value);
  return out;
}

function v1Task(t) {
  return {
    id: t.task_id.value,
    name: t.name,
    framework_id: t.framework_id.value,
    executor_id: t.executor_id ? t.executor_id.value : '',
    slave_id: t.agent_id ? t.agent_id.value : '',
    state: t.state,
    resources: v1Resources(t.resources),
    statuses: (t.statuses || []).map((s) => ({ state: s.state, timestamp: s.timestamp, healthy: s.healthy })),
  };
}

function findFramework(id) {
  return (model.state.frameworks || []).find((f) => f.id === id);
}

function applyEvent(event) {
  const s = model.state;
  if (!s) return;
  switch (event.type) {
    case 'TASK_ADDED': {
      const task = v1Task(event.task_added.task);
      const f = findFramework(task.framework_id);
      if (f && !f.tasks.some((t) => t.id === task.id)) f.tasks.push(task);
      break;
    }
    case 'TASK_UPDATED': {
      const u = event.task_updated;
      const f = findFramework(u.framework_id.value);
      if (!f) break;
      const id = u.status.task_id.value;
      const state = u.state || u.status.state;
      let task = f.tasks.find((t) => t.id === id) || f.unreachable_tasks.find((t) => t.id === id);
      if (!task) break;
      task.state = state;
      task.statuses = (task.statuses || []).concat([{ state: u.status.state, timestamp: u.status.timestamp, healthy: u.status.healthy }]);
      f.tasks = f.tasks.filter((t) => t !== task);
      f.unreachable_tasks = f.unreachable_tasks.filter((t) => t !== task);
      if (TERMINAL.has(state)) f.completed_tasks.push(task);
      else if (state === 'TASK_UNREACHABLE') f.unreachable_tasks.push(task);
      else f.tasks.push(task);
      break;
    }
    case 'AGENT_ADDED': {
      const a = event.agent_added.agent;
      const info = a.agent_info;
      const id = info.id.value;
      s.slaves = (s.slaves || []).filter((x) => x.id !== id);
      s.slaves.push({
        id, hostname: info.hostname, pid: a.pid, active: a.active !== false,
        resources: v1Resources(a.total_resources || info.resources),
        used_resources: v1Resources(a.allocated_resources), offered_resources: v1Resources(a.offered_resources),
        registered_time: a.registered_time ? a.registered_time.nanoseconds / 1e9 : Date.now() / 1000,
        version: a.version,
      });
      break;
    }
    case 'AGENT_REMOVED': {
      const id = event.agent_removed.agent_id.value;
      s.slaves = (s.slaves || []).filter((x) => x.id !== id);
      break;
    }
    case 'FRAMEWORK_ADDED':
    case 'FRAMEWORK_UPDATED': {
      const fw = (event.framework_added || event.framework_updated).framework;
      const info = fw.framework_info;
      const id = info.id.value;
      let f = findFramework(id);
      if (!f) {
        f = { id, tasks: [], completed_tasks: [], unreachable_tasks: [], offers: [], resources: {}, used_resources: {} };
        s.frameworks = (s.frameworks || []).concat([f]);
      }
      Object.assign(f, {
        name: info.name, user: info.user, hostname: info.hostname, principal: info.principal,
        role: info.role, roles: info.roles, webui_url: info.webui_url, active: fw.active !== false,
        registered_time: fw.registered_time ? fw.registered_time.nanoseconds / 1e9 : f.registered_time,
      });
      break;
    }
    case 'FRAMEWORK_REMOVED': {
      const id = event.framework_removed.framework_info.id.value;
      const f = findFramework(id);
      if (f) {
        s.frameworks = s.frameworks.filter((x) => x !== f);
        f.active = false;
        f.unregistered_time = Date.now() / 1000;
        s.completed_frameworks = [f].concat(s.completed_frameworks || []);
      }
      break;
    }
    default:
      return;
  }
  rebuildIndexes();
  changed();
}

// Polling: slower for bigger clusters (Mesos's updateInterval), used only without the stream.
function pollInterval() {
  const agents = model.state ? (model.state.slaves || []).length : 0;
  if (agents < 100) return 1000;
  if (agents < 500) return 2000;
  if (agents < 1000) return 10000;
  if (agents < 5000) return 30000;
  return 60000;
}

function setMode(mode, text) {
  model.mode = mode;
  const live = $('#live');
  live.className = `live ${mode}`;
  live.textContent = text;
}

// The last state's text: an unchanged state is not re-rendered (a re-render under the user's
// pointer could swallow a click).
let lastStateText = '';

async function loadState() {
  try {
    const response = await fetch('master/state', { headers: { Accept: 'application/json' } });
    if (!response.ok) throw new Error(`master/state: ${response.status} ${await response.text()}`);
    const text = await response.text();
    if (text !== lastStateText || !model.state) {
      lastStateText = text;
      setState(JSON.parse(text));
    }
    return true;
  } catch (error) {
    model.error = error;
    changed();
    return false;
  }
}

let pollTimer = null;
function startPolling(reason) {
  if (pollTimer) return;
  setMode('polling', `polling every ${pollInterval() / 1000}s`);
  $('#live').title = reason;
  const tick = async () => {
    const ok = await loadState();
    if (ok) {
      setMode('polling', `polling every ${pollInterval() / 1000}s`);
      maybeSubscribe();
    }
    else setMode('down', 'cannot reach the master; retrying');
    pollTimer = setTimeout(tick, pollInterval());
  };
  pollTimer = setTimeout(tick, pollInterval());
}

function stopPolling() {
  if (pollTimer) clearTimeout(pollTimer);
  pollTimer = null;
}

// RecordIO: "<length>\n<length bytes of JSON>" records, split across chunks arbitrarily.
async function readRecords(body, onRecord) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = new Uint8Array(0);
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    const merged = new Uint8Array(buffer.length + value.length);
    merged.set(buffer);
    merged.set(value, buffer.length);
    buffer = merged;
    for (;;) {
      const newline = buffer.indexOf(10);
      if (newline < 0) break;
      const length = Number(decoder.decode(buffer.subarray(0, newline)));
      if (!Number.isFinite(length)) throw new Error('malformed RecordIO');
      if (buffer.length < newline + 1 + length) break;
      const record = decoder.decode(buffer.subarray(newline + 1, newline + 1 + length));
      buffer = buffer.slice(newline + 1 + length);
      onRecord(JSON.parse(record));
    }
  }
}

let streamFailures = 0;
async function subscribe() {
  let response;
  try {
    response = await fetch('api/v1', {
      method: 'POST',
      redirect: 'manual',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ type: 'SUBSCRIBE' }),
    });
  } catch (error) {
    streamFailures += 1;
    startPolling(`event stream unavailable: ${error}`);
    setTimeout(subscribe, Math.min(60000, 2000 * 2 ** streamFailures));
    return;
  }
  if (!response.ok || !response.body) {
    // 501: this master has no operator event stream; 307/503: not the leader. Poll.
    startPolling(`event stream unavailable (HTTP ${response.status})`);
    if (response.status !== 501) setTimeout(subscribe, Math.min(60000, 5000 * 2 ** Math.min(streamFailures++, 4)));
    return;
  }
  try {
    await readRecords(response.body, (event) => {
      if (event.type === 'SUBSCRIBED') {
        streamFailures = 0;
        stopPolling();
        setMode('stream', 'live');
        $('#live').title = 'following the master\'s event stream';
        loadState();
      } else {
        applyEvent(event);
      }
    });
  } catch (error) {
    console.info('event stream ended:', error.message);
  }
  // The stream ended (master restarted, leadership moved): poll until it is back.
  streamFailures += 1;
  startPolling('event stream closed; reconnecting');
  setTimeout(subscribe, Math.min(30000, 1000 * 2 ** Math.min(streamFailures, 5)));
}

// ---------------------------------------------------------------------------------------------
// Tables: filter box, sortable columns, pages of 50.

const tables = new Map();

// columns: [{title, key(row) -> sortable value, cell(row) -> html, num}]
function table(id, columns, rows, opts) {
  const st = tables.get(id) || { filter: (opts && opts.filter) || '', sort: (opts && opts.sort) || null, desc: !!(opts && opts.desc), page: 0 };
  tables.set(id, st);
  const text = st.filter.toLowerCase();
  let shown = rows;
  if (text) {
    shown = rows.filter((r) => columns.some((c) => String(c.key(r) == null ? '' : c.key(r)).toLowerCase().includes(text)));
  }
  if (st.sort != null && columns[st.sort]) {
    const key = columns[st.sort].key;
    shown = shown.slice().sort((a, b) => {
      const x = key(a); const y = key(b);
      const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
      return st.desc ? -c : c;
    });
  }
  const pages = Math.max(1, Math.ceil(shown.length / PAGE_SIZE));
  st.page = Math.min(st.page, pages - 1);
  const slice = shown.slice(st.page * PAGE_SIZE, (st.page + 1) * PAGE_SIZE);
  const head = columns.map((c, i) => {
    const cls = ['sortable', c.num ? 'num' : '', st.sort === i ? (st.desc ? 'sorted-desc' : 'sorted-asc') : ''].join(' ');
    return `<th class="${cls}" data-table="${id}" data-col="${i}">${esc(c.title)}</th>`;
  }).join('');
  const body = slice.length
    ? slice.map((r) => `<tr>${columns.map((c) => `<td class="${c.num ? 'num' : ''}">${c.cell ? c.cell(r) : esc(c.key(r))}</td>`).join('')}</tr>`).join('')
    : `<tr><td colspan="${columns.length}" class="muted">${rows.length ? 'Nothing matches the filter.' : 'None.'}</td></tr>`;
  const pager = pages > 1
    ? `<span class="pager">page ${st.page + 1} of ${pages} <button data-table="${id}" data-page="0">first</button><button data-table="${id}" data-page="${st.page - 1}">prev</button><button data-table="${id}" data-page="${st.page + 1}">next</button><button data-table="${id}" data-page="${pages - 1}">last</button></span>`
    : '';
  return `<div class="table-tools"><input type="search" placeholder="Filter" data-filter="${id}" value="${esc(st.filter)}"> <span class="muted">${shown.length} of ${rows.length}</span> ${pager}</div>
<table id="${id}"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

document.addEventListener('click', (e) => {
  const el = e.target;
  if (el.matches('th.sortable')) {
    const st = tables.get(el.dataset.table);
    const col = Number(el.dataset.col);
    if (st.sort === col) st.desc = !st.desc; else { st.sort = col; st.desc = false; }
    refresh();
  } else if (el.matches('button[data-page]')) {
    const st = tables.get(el.dataset.table);
    st.page = Math.max(0, Number(el.dataset.page));
    refresh();
  } else if (el.matches('button[data-copy]')) {
    copy(el.dataset.copy, el);
  } else if (el.matches('time')) {
    absoluteTimes = !absoluteTimes;
    localStorage.setItem('mesos.absoluteTimes', absoluteTimes ? '1' : '0');
    refresh();
  }
});

let searchTimer = null;
document.addEventListener('input', (e) => {
  const el = e.target;
  if (el.dataset && el.dataset.filter) {
    const st = tables.get(el.dataset.filter);
    st.filter = el.value;
    st.page = 0;
    const pos = el.selectionStart;
    refresh();
    const again = document.querySelector(`input[data-filter="${el.dataset.filter}"]`);
    if (again) { again.focus(); again.setSelectionRange(pos, pos); }
  } else if (el.id === 'task-state') {
    location.hash = `#/tasks${el.value ? `?state=${q(el.value)}` : ''}`;
  } else if (el.id === 'task-q') {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      const state = ($('#task-state') || {}).value || '';
      location.hash = `#/tasks?state=${q(state)}&q=${q(el.value)}`;
    }, 300);
  }
});

async function copy(text, button) {
  try {
    await navigator.clipboard.writeText(text);
  } catch (_) {
    const area = document.createElement('textarea');
    area.value = text;
    document.body.appendChild(area);
    area.select();
    document.execCommand('copy');
    area.remove();
  }
  button.textContent = 'copied';
  setTimeout(() => { button.textContent = 'copy'; }, 1200);
}

// ---------------------------------------------------------------------------------------------
// Pages.

function taskColumns(kind, withFramework) {
  const cols = [];
  if (withFramework) cols.push({ title: 'Framework', key: (t) => t.framework_id, cell: (t) => idCell(t.framework_id, `#/frameworks/${q(t.framework_id)}`) });
  cols.push(
    { title: 'Task ID', key: (t) => t.id, cell: (t) => idCell(t.id, `#/tasks/${q(t.framework_id)}/${q(t.id)}`) },
    { title: 'Name', key: (t) => t.name },
    { title: 'State', key: (t) => t.state, cell: (t) => stateCell(t.state) },
    { title: 'Started', key: startTime, cell: (t) => timeCell(startTime(t)) },
  );
  if (kind === 'completed') cols.push({ title: 'Stopped', key: stopTime, cell: (t) => timeCell(stopTime(t)) });
  cols.push(
    { title: 'Host', key: (t) => agentHost(t.slave_id), cell: (t) => (model.indexes.agents.has(t.slave_id) ? `<a href="#/agents/${q(t.slave_id)}">${esc(agentHost(t.slave_id))}</a>` : '<span class="muted">Agent offline</span>') },
    { title: 'Sandbox', key: () => '', cell: (t) => `<a class="sandbox" href="${esc(browseHref(t.slave_id, sandboxPath(t)))}">Sandbox</a>` },
  );
  return cols;
}

function agentHost(id) {
  const a = model.indexes.agents.get(id);
  if (!a) return id;
  const port = String(a.pid || '').split(':').pop();
  return port ? `${a.hostname}:${port}` : a.hostname;
}

function clusterTotals() {
  const s = model.state;
  if (model.big && s.summary) {
    const { total, used, offered } = s.summary;
    return { total, used, offered, idle: subRes(subRes(total, used), offered) };
  }
  let total = {}; let used = {}; let offered = {};
  for (const a of s.slaves || []) {
    total = addRes(total, a.resources);
    used = addRes(used, a.used_resources);
    offered = addRes(offered, a.offered_resources);
  }
  return { total, used, offered, idle: subRes(subRes(total, used), offered) };
}

function dominantShare(f, total) {
  let share = 0;
  for (const k of RESOURCES) if (res(total, k) > 0) share = Math.max(share, res(f.used_resources, k) / res(total, k));
  return share;
}

function countTasks() {
  if (model.big && model.state.summary) return model.state.summary.tasks || {};
  const counts = {};
  for (const [t, kind] of allTasks()) {
    const state = kind === 'unreachable' ? 'TASK_UNREACHABLE' : t.state;
    counts[state] = (counts[state] || 0) + 1;
  }
  return counts;
}

function resourceTable(rows) {
  return `<table class="resources"><thead><tr><th></th>${RESOURCES.map((k) => `<th class="num">${k === 'cpus' ? 'CPUs' : k === 'gpus' ? 'GPUs' : k === 'mem' ? 'Mem' : 'Disk'}</th>`).join('')}</tr></thead><tbody>
${rows.map(([name, r]) => `<tr><th>${esc(name)}</th>${RESOURCES.map((k) => `<td class="num">${fmtRes(r, k)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

function logLinks(agentId) {
  const path = agentId ? '/slave/log' : '/master/log';
  return `<a href="${esc(viewHref(agentId || '-', path))}">View</a> | <a href="${esc(`${agentFiles(agentId)}/download?path=${q(path)}`)}">Download</a>`;
}

function dashboard() {
  const s = model.state;
  const { total, used, offered, idle } = clusterTotals();
  const counts = countTasks();
  const agents = s.slaves || [];
  const activeAgents = model.big ? Number(s.activated_slaves || 0) : agents.filter((a) => a.active !== false).length;
  const inactiveAgents = model.big ? Number(s.deactivated_slaves || 0) : agents.length - activeAgents;
  const tasks = allTasks();
  const leader = s.leader_info ? `${s.leader_info.hostname}:${s.leader_info.port}` : (s.leader || 'none');
  return `<h1>Cluster</h1><div class="grid"><div>
<div class="card"><h2>Cluster</h2><dl class="kv">
<dt>Cluster</dt><dd>${esc(s.cluster || '(Unnamed)')}</dd>
<dt>Leader</dt><dd id="leader">${esc(leader)}</dd>
<dt>Version</dt><dd>${esc(s.version)}</dd>
<dt>Started</dt><dd>${timeCell(s.start_time)}</dd>
<dt>Elected</dt><dd>${timeCell(s.elected_time)}</dd>
${s.flags && s.flags.log_dir ? `<dt>Master log</dt><dd>${logLinks(null)}</dd>` : ''}
</dl></div>
<div class="card"><h2>Agents</h2><div class="counts" id="agent-counts">
<div class="count"><b>${activeAgents}</b><span>Activated</span></div>
<div class="count"><b>${inactiveAgents}</b><span>Deactivated</span></div>
<div class="count"><b>${Number(s.unreachable_slaves || 0)}</b><span>Unreachable</span></div></div></div>
<div class="card"><h2>Tasks</h2><div class="counts" id="task-counts">
${TASK_STATES.map((st) => `<a class="count" href="#/tasks?state=${q(st)}"><b>${counts[st] || 0}</b><span>${esc(st.replace('TASK_', '').toLowerCase())}</span></a>`).join('')}</div></div>
<div class="card"><h2>Resources</h2>${resourceTable([['Total', total], ['Allocated', used], ['Offered', offered], ['Idle', idle]])}</div>
</div><div>${model.big ? `<p class="muted">A big cluster: the latest ${PAGE_SIZE} tasks of each kind are shown here; <a href="#/tasks">Tasks</a> searches them all.</p>` : ''}
<h2>Active tasks</h2>${table('dash-active', taskColumns('active', true), tasks.filter(([, k]) => k === 'active').map(([t]) => t), { sort: 4, desc: true })}
<h2>Unreachable tasks</h2>${table('dash-unreachable', taskColumns('unreachable', true), tasks.filter(([, k]) => k === 'unreachable').map(([t]) => t))}
<h2>Completed tasks</h2>${table('dash-completed', taskColumns('completed', true), tasks.filter(([, k]) => k === 'completed').map(([t]) => t), { sort: 5, desc: true })}
</div></div>`;
}

function frameworkColumns(total, completed) {
  return [
    { title: 'ID', key: (f) => f.id, cell: (f) => idCell(f.id, `#/frameworks/${q(f.id)}`) },
    { title: 'Host', key: (f) => f.hostname, cell: (f) => (f.webui_url ? `<a href="${esc(f.webui_url)}">${esc(f.hostname)}</a>` : esc(f.hostname)) },
    { title: 'User', key: (f) => f.user },
    { title: 'Name', key: (f) => f.name },
    { title: 'Roles', key: (f) => (f.roles && f.roles.length ? f.roles : [f.role]).join(', ') },
    { title: 'Principal', key: (f) => f.principal || '' },
    { title: 'Active tasks', num: true, key: (f) => (f.tasks || []).length },
    { title: 'CPUs', num: true, key: (f) => res(f.used_resources, 'cpus'), cell: (f) => fmtRes(f.used_resources, 'cpus') },
    { title: 'Mem', num: true, key: (f) => res(f.used_resources, 'mem'), cell: (f) => fmtRes(f.used_resources, 'mem') },
    { title: 'Disk', num: true, key: (f) => res(f.used_resources, 'disk'), cell: (f) => fmtRes(f.used_resources, 'disk') },
    { title: 'Max share', num: true, key: (f) => dominantShare(f, total), cell: (f) => `${(dominantShare(f, total) * 100).toFixed(1)}%` },
    { title: 'Registered', key: (f) => f.registered_time || 0, cell: (f) => timeCell(f.registered_time) },
    completed
      ? { title: 'Unregistered', key: (f) => f.unregistered_time || 0, cell: (f) => timeCell(f.unregistered_time) }
      : { title: 'Re-registered', key: (f) => f.reregistered_time || 0, cell: (f) => timeCell(f.reregistered_time) },
  ];
}

function frameworksPage() {
  const s = model.state;
  const { total } = clusterTotals();
  const active = (s.frameworks || []).filter((f) => f.active !== false);
  const inactive = (s.frameworks || []).filter((f) => f.active === false);
  return `<h1>Frameworks</h1>
<h2>Active frameworks</h2>${table('fw-active', frameworkColumns(total, false), active)}
<h2>Inactive frameworks</h2>${table('fw-inactive', frameworkColumns(total, false), inactive)}
<h2>Completed frameworks</h2>${table('fw-completed', frameworkColumns(total, true), s.completed_frameworks || [])}`;
}

function frameworkPage(id) {
  const f = model.indexes.frameworks.get(id);
  if (!f) return `<h1>Framework</h1><p class="error">No framework found with ID: ${esc(id)}</p>`;
  const { total } = clusterTotals();
  const completed = !(model.state.frameworks || []).includes(f);
  const counts = {};
  for (const t of (f.tasks || []).concat(f.completed_tasks || [])) counts[t.state] = (counts[t.state] || 0) + 1;
  return `<h1>Framework ${esc(f.name)}</h1>${completed ? '<p class="banner">This framework has terminated!</p>' : ''}
<div class="grid"><div><div class="card"><dl class="kv">
<dt>ID</dt><dd>${idCell(f.id)}</dd><dt>Name</dt><dd>${esc(f.name)}</dd><dt>User</dt><dd>${esc(f.user)}</dd>
<dt>Roles</dt><dd>${esc((f.roles && f.roles.length ? f.roles : [f.role]).join(', '))}</dd>
<dt>Principal</dt><dd>${esc(f.principal || '-')}</dd>
<dt>Registered</dt><dd>${timeCell(f.registered_time)}</dd>
<dt>Dominant share</dt><dd>${(dominantShare(f, total) * 100).toFixed(1)}%</dd>
${f.webui_url ? `<dt>Web UI</dt><dd><a href="${esc(f.webui_url)}">${esc(f.webui_url)}</a></dd>` : ''}
</dl></div>
<div class="card"><h2>Tasks</h2><div class="counts">${TASK_STATES.filter((st) => st !== 'TASK_UNREACHABLE').map((st) => `<div class="count"><b>${counts[st] || 0}</b><span>${esc(st.replace('TASK_', '').toLowerCase())}</span></div>`).join('')}</div></div>
<div class="card"><h2>Resources</h2>${resourceTable([['Allocated', f.used_resources], ['Offered', f.offered_resources]])}</div>
</div><div>
<h2>Active tasks</h2>${table(`fw-${id}-active`, taskColumns('active', false), f.tasks || [])}
<h2>Unreachable tasks</h2>${table(`fw-${id}-unreachable`, taskColumns('unreachable', false), f.unreachable_tasks || [])}
<h2>Completed tasks</h2>${table(`fw-${id}-completed`, taskColumns('completed', false), f.completed_tasks || [], { sort: 4, desc: true })}
</div></div>`;
}

// At most one agent list download per 30 s (it is megabytes on a big cluster).
const bigAgents = { list: null, at: 0, loading: false };

function agentsPage() {
  let agents = model.state.slaves || [];
  if (model.big) {
    if (!bigAgents.loading && Date.now() - bigAgents.at > 30000) {
      bigAgents.loading = true;
      bigAgents.at = Date.now();
      getJSON('master/slaves').then((d) => { bigAgents.list = d.slaves || []; })
        .catch(() => {})
        .finally(() => { bigAgents.loading = false; refresh(); });
    }
    agents = bigAgents.list || [];
    for (const a of agents) model.indexes.agents.set(a.id, a);
  }
  const cols = [
    { title: 'ID', key: (a) => a.id, cell: (a) => idCell(a.id, `#/agents/${q(a.id)}`) },
    { title: 'Host', key: (a) => agentHost(a.id) },
    { title: 'State', key: (a) => (a.active === false ? 'Deactivated' : 'Active') },
    ...RESOURCES.map((k) => ({
      title: `${k === 'cpus' ? 'CPUs' : k === 'gpus' ? 'GPUs' : k === 'mem' ? 'Mem' : 'Disk'} (allocated / total)`,
      num: true,
      key: (a) => res(a.used_resources, k),
      cell: (a) => `${fmtRes(a.used_resources, k)} / ${fmtRes(a.resources, k)}`,
    })),
    { title: 'Registered', key: (a) => a.registered_time || 0, cell: (a) => timeCell(a.registered_time) },
    { title: 'Re-registered', key: (a) => a.reregistered_time || 0, cell: (a) => timeCell(a.reregistered_time) },
  ];
  const tiles = agents.map((a) => {
    const t = res(a.resources, 'cpus'); const u = res(a.used_resources, 'cpus');
    return `<a href="#/agents/${q(a.id)}" title="${esc(agentHost(a.id))}: ${num(u)} of ${num(t)} CPUs allocated"><meter min="0" max="${t || 1}" value="${u}"></meter></a>`;
  }).join('');
  return `<h1>Agents</h1><div class="card"><h2>CPU allocation by agent</h2><div class="topology">${tiles || '<span class="muted">No agents.</span>'}</div></div>${table('agents', cols, agents)}`;
}

// Agent detail: the agent's own state and live usage, through the master's proxy.
const agentView = { id: null, state: null, stats: null, prev: null, usage: {}, error: null, timer: null };

function stopAgentView() {
  if (agentView.timer) clearTimeout(agentView.timer);
  Object.assign(agentView, { id: null, state: null, stats: null, prev: null, usage: {}, error: null, timer: null });
}

async function followAgent(id) {
  if (agentView.id === id) return;
  stopAgentView();
  agentView.id = id;
  const poll = async () => {
    if (agentView.id !== id) return;
    try {
      const [state, stats] = await Promise.all([
        getJSON(`agent/${q(id)}/slave(1)/state`),
        getJSON(`agent/${q(id)}/monitor/statistics`),
      ]);
      if (agentView.id !== id) return;
      const prev = agentView.stats;
      agentView.state = state;
      agentView.stats = stats;
      agentView.error = null;
      for (const s of stats) {
        const before = prev && prev.find((p) => p.executor_id === s.executor_id && p.framework_id === s.framework_id);
        const st = s.statistics || {};
        let cpu = null;
        if (before) {
          const b = before.statistics || {};
          const dt = (st.timestamp || 0) - (b.timestamp || 0);
          if (dt > 0) cpu = ((st.cpus_user_time_secs || 0) + (st.cpus_system_time_secs || 0) - (b.cpus_user_time_secs || 0) - (b.cpus_system_time_secs || 0)) / dt;
        }
        agentView.usage[`${s.framework_id}/${s.executor_id}`] = { cpu, mem: st.mem_rss_bytes || 0 };
      }
    } catch (error) {
      agentView.error = error.message;
    }
    changed();
    agentView.timer = setTimeout(poll, prev_interval(agentView));
  };
  const prev_interval = (v) => (v.stats && Object.keys(v.usage).length && Object.values(v.usage).every((u) => u.cpu == null) ? 500 : 3000);
  poll();
}

function agentPage(id) {
  followAgent(id);
  const a = model.indexes.agents.get(id);
  const st = agentView.state;
  const head = `<h1>Agent ${esc(a ? agentHost(id) : id)}</h1>`;
  if (!a && !st) return `${head}<p class="error">No agent found with ID: ${esc(id)}</p>`;
  const executors = [];
  for (const f of (st && st.frameworks) || []) for (const e of f.executors || []) executors.push([f, e, 'active']);
  for (const f of (st && st.completed_frameworks) || []) for (const e of (f.executors || []).concat(f.completed_executors || [])) executors.push([f, e, 'completed']);
  const cols = [
    { title: 'Executor', key: ([, e]) => e.id, cell: ([, e]) => idCell(e.id) },
    { title: 'Framework', key: ([f]) => f.name || f.id, cell: ([f]) => `<a href="#/frameworks/${q(f.id)}">${esc(f.name || f.id)}</a>` },
    { title: 'Tasks', num: true, key: ([, e]) => (e.tasks || []).length },
    { title: 'CPUs (used / allocated)', num: true, key: ([f, e]) => ((agentView.usage[`${f.id}/${e.id}`] || {}).cpu || 0), cell: ([f, e]) => { const u = agentView.usage[`${f.id}/${e.id}`]; return `${u && u.cpu != null ? u.cpu.toFixed(3) : '-'} / ${fmtRes(e.resources, 'cpus')}`; } },
    { title: 'Mem (used / allocated)', num: true, key: ([f, e]) => ((agentView.usage[`${f.id}/${e.id}`] || {}).mem || 0), cell: ([f, e]) => { const u = agentView.usage[`${f.id}/${e.id}`]; return `${u ? bytes(u.mem / 1048576) : '-'} / ${fmtRes(e.resources, 'mem')}`; } },
    { title: 'Sandbox', key: () => '', cell: ([f, e]) => `<a class="sandbox" href="${esc(browseHref(id, `/frameworks/${f.id}/executors/${e.id}/runs/latest`))}">Sandbox</a>` },
  ];
  return `${head}<div class="grid"><div><div class="card"><dl class="kv">
<dt>ID</dt><dd>${idCell(id)}</dd>
<dt>Host</dt><dd>${esc(a ? agentHost(id) : (st && st.hostname))}</dd>
<dt>Version</dt><dd>${esc((st && st.version) || (a && a.version) || '')}</dd>
<dt>Started</dt><dd>${timeCell(st && st.start_time)}</dd>
<dt>Registered</dt><dd>${timeCell(a && a.registered_time)}</dd>
${st && st.log_dir ? `<dt>Agent log</dt><dd>${logLinks(id)}</dd>` : ''}
</dl>${agentView.error ? `<p class="error">${esc(agentView.error)}</p>` : ''}</div>
<div class="card"><h2>Resources</h2>${a ? resourceTable([['Total', a.resources], ['Allocated', a.used_resources], ['Offered', a.offered_resources], ['Idle', subRes(subRes(a.resources, a.used_resources), a.offered_resources)]]) : ''}</div>
</div><div><h2>Executors (live usage)</h2>${st ? table(`agent-${id}-executors`, cols, executors) : '<p class="muted">Loading the agent\'s state…</p>'}</div></div>`;
}

const bigTasks = { key: null, data: null, error: null, loading: false };

function tasksPageBig(params) {
  const state = params.get('state') || '';
  const text = params.get('q') || '';
  const page = Math.max(0, Number(params.get('page') || 0));
  const key = `${state}|${text}|${page}|${model.version}`;
  if (bigTasks.key !== key && !bigTasks.loading) {
    bigTasks.loading = true;
    getJSON(`webui/tasks?state=${q(state)}&q=${q(text)}&offset=${page * PAGE_SIZE}&limit=${PAGE_SIZE}`)
      .then((d) => { bigTasks.data = d; bigTasks.error = null; })
      .catch((e) => { bigTasks.error = e.message; })
      .finally(() => { bigTasks.loading = false; bigTasks.key = key; refresh(); });
  }
  const d = bigTasks.data;
  const cols = taskColumns('completed', true);
  const rows = d ? d.tasks : [];
  const pages = d ? Math.max(1, Math.ceil(d.total / PAGE_SIZE)) : 1;
  const link = (p) => `#/tasks?state=${q(state)}&q=${q(text)}&page=${p}`;
  return `<h1>Tasks</h1><div class="table-tools"><label>State <select id="task-state"><option value="">all</option>${TASK_STATES.map((st) => `<option value="${st}"${st === state ? ' selected' : ''}>${st.replace('TASK_', '').toLowerCase()}</option>`).join('')}</select></label>
<input type="search" id="task-q" placeholder="Search ids and names" value="${esc(text)}">
<span class="muted">${d ? `${d.total} tasks` : 'Loading…'}</span>
<span class="pager">page ${page + 1} of ${pages} ${page > 0 ? `<a href="${link(page - 1)}">prev</a>` : ''} ${page + 1 < pages ? `<a href="${link(page + 1)}">next</a>` : ''}</span></div>
${bigTasks.error ? `<p class="error">${esc(bigTasks.error)}</p>` : ''}
<table id="tasks"><thead><tr>${cols.map((c) => `<th>${esc(c.title)}</th>`).join('')}</tr></thead><tbody>
${rows.length ? rows.map((t) => `<tr>${cols.map((c) => `<td>${c.cell ? c.cell(t) : esc(c.key(t))}</td>`).join('')}</tr>`).join('') : `<tr><td colspan="${cols.length}" class="muted">${d ? 'None.' : 'Loading…'}</td></tr>`}
</tbody></table>`;
}

function tasksPage(params) {
  if (model.big) return tasksPageBig(params);
  const state = params.get('state') || '';
  const rows = allTasks().filter(([t, kind]) => !state || (state === 'TASK_UNREACHABLE' ? kind === 'unreachable' : t.state === state)).map(([t]) => t);
  const st = tables.get('tasks');
  if (!st && params.get('q')) tables.set('tasks', { filter: params.get('q'), sort: null, desc: false, page: 0 });
  return `<h1>Tasks</h1><div class="table-tools"><label>State <select id="task-state"><option value="">all</option>${TASK_STATES.map((s) => `<option value="${s}"${s === state ? ' selected' : ''}>${s.replace('TASK_', '').toLowerCase()}</option>`).join('')}</select></label></div>
${table('tasks', taskColumns('completed', true), rows, { sort: 4, desc: true })}`;
}

function taskPage(fid, tid) {
  const found = allTasks().find(([t]) => t.framework_id === fid && t.id === tid);
  if (!found) return `<h1>Task</h1><p class="error">No task ${esc(tid)} of framework ${esc(fid)}.</p>`;
  const [t, kind, f] = found;
  const sandbox = sandboxPath(t);
  return `<h1>Task ${esc(t.name || t.id)}</h1><div class="grid"><div class="card"><dl class="kv">
<dt>ID</dt><dd>${idCell(t.id)}</dd><dt>Name</dt><dd>${esc(t.name)}</dd><dt>State</dt><dd>${stateCell(t.state)} <span class="muted">(${kind})</span></dd>
<dt>Framework</dt><dd><a href="#/frameworks/${q(f.id)}">${esc(f.name || f.id)}</a></dd>
<dt>Agent</dt><dd>${model.indexes.agents.has(t.slave_id) ? `<a href="#/agents/${q(t.slave_id)}">${esc(agentHost(t.slave_id))}</a>` : esc(t.slave_id)}</dd>
<dt>Executor</dt><dd>${esc(t.executor_id || '(command executor)')}</dd>
<dt>Resources</dt><dd>${RESOURCES.filter((k) => res(t.resources, k)).map((k) => `${k}: ${fmtRes(t.resources, k)}`).join(', ')}</dd>
<dt>Sandbox</dt><dd><a class="sandbox" href="${esc(browseHref(t.slave_id, sandbox))}">browse</a> · <a class="stdout" href="${esc(viewHref(t.slave_id, `${sandbox}/stdout`))}">stdout</a> · <a class="stderr" href="${esc(viewHref(t.slave_id, `${sandbox}/stderr`))}">stderr</a></dd>
</dl></div><div><h2>Status updates</h2><table><thead><tr><th>State</th><th>Time</th><th>Healthy</th></tr></thead><tbody>
${(t.statuses || []).map((s) => `<tr><td>${stateCell(s.state)}</td><td>${timeCell(s.timestamp)}</td><td>${s.healthy == null ? '-' : s.healthy ? 'healthy' : 'unhealthy'}</td></tr>`).join('')}</tbody></table></div></div>`;
}

function offersPage() {
  const offers = [];
  for (const f of model.state.frameworks || []) for (const o of f.offers || []) offers.push([o, f]);
  const cols = [
    { title: 'ID', key: ([o]) => o.id, cell: ([o]) => idCell(o.id) },
    { title: 'Framework', key: ([, f]) => f.name, cell: ([, f]) => `<a href="#/frameworks/${q(f.id)}">${esc(f.name)}</a>` },
    { title: 'Host', key: ([o]) => agentHost(o.slave_id), cell: ([o]) => `<a href="#/agents/${q(o.slave_id)}">${esc(agentHost(o.slave_id))}</a>` },
    ...RESOURCES.map((k) => ({ title: k, num: true, key: ([o]) => res(o.resources, k), cell: ([o]) => fmtRes(o.resources, k) })),
  ];
  return `<h1>Outstanding offers</h1>${table('offers', cols, offers)}`;
}

const rolesView = { data: null, error: null, version: -1, loading: false };

function rolesPage() {
  if (rolesView.version !== model.version && !rolesView.loading) {
    rolesView.loading = true;
    const version = model.version;
    getJSON('master/roles').then((d) => { rolesView.data = d; rolesView.error = null; })
      .catch((e) => { rolesView.error = e.message; })
      .finally(() => { rolesView.loading = false; rolesView.version = version; refresh(); });
  }
  if (!rolesView.data) return `<h1>Roles</h1><p class="muted">${esc(rolesView.error || 'Loading…')}</p>`;
  const cols = [
    { title: 'Role', key: (r) => r.name },
    { title: 'Weight', num: true, key: (r) => Number(r.weight || 1) },
    { title: 'Frameworks', num: true, key: (r) => (r.frameworks || []).length },
    ...RESOURCES.map((k) => ({ title: `Allocated ${k}`, num: true, key: (r) => res(r.allocated || r.resources, k), cell: (r) => (res(r.allocated || r.resources, k) ? fmtRes(r.allocated || r.resources, k) : '-') })),
    ...['cpus', 'mem'].map((k) => ({ title: `Offered ${k}`, num: true, key: (r) => res(r.offered, k), cell: (r) => (res(r.offered, k) ? fmtRes(r.offered, k) : '-') })),
  ];
  return `<h1>Roles</h1>${table('roles', cols, rolesView.data.roles || [])}`;
}

// Sandbox browser.
const browseView = { key: null, listing: null, error: null };

function browsePage(agentId, params) {
  const path = params.get('path') || '/';
  const key = `${agentId}|${path}`;
  if (browseView.key !== key) {
    browseView.key = key;
    browseView.listing = null;
    browseView.error = null;
    getJSON(`${agentFiles(agentId)}/browse?path=${q(path)}`)
      .then((l) => { if (browseView.key === key) browseView.listing = l; })
      .catch((e) => { if (browseView.key === key) browseView.error = e.status === 404 ? `No such directory: ${path} (the sandbox may have been garbage collected).` : e.message; })
      .finally(refresh);
  }
  const parts = path.split('/').filter(Boolean);
  const crumbs = parts.map((p, i) => `<a href="${esc(browseHref(agentId, `/${parts.slice(0, i + 1).join('/')}`))}">${esc(p)}</a>`).join('/');
  let body;
  if (browseView.error) body = `<p class="error">${esc(browseView.error)}</p>`;
  else if (!browseView.listing) body = '<p class="muted">Loading…</p>';
  else if (!browseView.listing.length) body = '<p class="muted">No files in this directory.</p>';
  else {
    const cols = [
      { title: 'Mode', key: (e) => e.mode, cell: (e) => `<span class="id">${esc(e.mode)}</span>` },
      { title: 'UID', key: (e) => e.uid },
      { title: 'GID', key: (e) => e.gid },
      { title: 'Size', num: true, key: (e) => e.size, cell: (e) => bytes(e.size / 1048576) },
      { title: 'Modified', key: (e) => e.mtime, cell: (e) => timeCell(e.mtime) },
      {
        title: 'Name', key: (e) => e.path.split('/').pop(), cell: (e) => {
          const name = e.path.split('/').pop();
          return e.mode[0] === 'd'
            ? `<a class="dir" href="${esc(browseHref(agentId, e.path))}">${esc(name)}/</a>`
            : `<a class="file" data-name="${esc(name)}" href="${esc(viewHref(agentId, e.path))}">${esc(name)}</a> <a class="muted" href="${esc(`${agentFiles(agentId)}/download?path=${q(e.path)}`)}">download</a>`;
        },
      },
    ];
    const dirsFirst = browseView.listing.slice().sort((a, b) => (a.mode[0] === 'd') === (b.mode[0] === 'd') ? a.path.localeCompare(b.path) : a.mode[0] === 'd' ? -1 : 1);
    body = table(`browse-${key}`, cols, dirsFirst);
  }
  return `<h1>Sandbox</h1><div class="muted">Agent ${esc(model.indexes.agents.has(agentId) ? agentHost(agentId) : agentId)}</div>
<div class="breadcrumb" id="breadcrumb">/${crumbs}</div>${body}`;
}

// Log viewer: reads the end of a file, then tails it every second (at once after a full chunk).
const logView = { key: null, offset: 0, text: '', timer: null, status: '', error: null, follow: true };

function stopLog() {
  if (logView.timer) clearTimeout(logView.timer);
  Object.assign(logView, { key: null, offset: 0, text: '', timer: null, status: '', error: null, follow: true });
}

async function tail(key, base, path) {
  if (logView.key !== key) return;
  let delay = 1000;
  try {
    if (logView.offset < 0) {
      const size = await getJSON(`${base}/read?path=${q(path)}&offset=-1`);
      logView.offset = Math.max(0, size.offset - LOG_PAGE);
    }
    const chunk = await getJSON(`${base}/read?path=${q(path)}&offset=${logView.offset}&length=${LOG_PAGE}`);
    if (logView.key !== key) return;
    if (chunk.data.length) {
      logView.text += chunk.data;
      if (logView.text.length > LOG_KEEP && logView.follow) logView.text = logView.text.slice(-LOG_KEEP);
      logView.offset = chunk.offset + new TextEncoder().encode(chunk.data).length;
      if (chunk.data.length >= LOG_PAGE) delay = 0;
    }
    logView.error = null;
    logView.status = `${logView.offset} bytes`;
  } catch (error) {
    logView.error = error.status === 404 ? `${path} does not exist (yet).` : error.message;
  }
  renderLog();
  logView.timer = setTimeout(() => tail(key, base, path), delay);
}

function renderLog() {
  const pre = $('#log');
  if (!pre) return;
  const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
  if (pre.textContent !== logView.text) pre.textContent = logView.text;
  if (logView.follow && atBottom) pre.scrollTop = pre.scrollHeight;
  $('#log-status').textContent = logView.error ? '' : logView.status;
  const err = $('#log-error');
  err.textContent = logView.error || '';
}

function viewPage(agentId, params) {
  const path = params.get('path') || '';
  const base = agentFiles(agentId === '-' ? null : agentId);
  const key = `${base}|${path}`;
  if (logView.key !== key) {
    stopLog();
    logView.key = key;
    logView.offset = -1;
    setTimeout(() => tail(key, base, path), 0);
  }
  const dir = path.split('/').slice(0, -1).join('/') || '/';
  const back = agentId === '-' ? '' : ` · <a href="${esc(browseHref(agentId, dir))}">back to the directory</a>`;
  return `<h1>${esc(path.split('/').pop())}</h1><div class="log-tools"><span class="breadcrumb">${esc(path)}</span>
<a href="${esc(`${base}/download?path=${q(path)}`)}">download</a>${back}<span class="muted" id="log-status"></span><span class="error" id="log-error"></span></div>
<pre class="log" id="log"></pre>`;
}

// ---------------------------------------------------------------------------------------------
// Routing and rendering.

function route() {
  const hash = location.hash.replace(/^#/, '') || '/';
  const [pathPart, query] = hash.split('?');
  const parts = pathPart.split('/').filter(Boolean).map(decodeURIComponent);
  return { parts, params: new URLSearchParams(query || '') };
}

let lastRoute = '';
function refresh() {
  const page = $('#page');
  const { parts, params } = route();
  const routeKey = location.hash;
  if (routeKey !== lastRoute) {
    lastRoute = routeKey;
    if (!(parts[0] === 'agents' && parts.length === 2)) stopAgentView();
    if (parts[2] !== 'view') stopLog();
  }
  for (const a of document.querySelectorAll('#navbar nav a')) a.classList.toggle('active', (parts[0] || '') === a.dataset.nav);
  banner();
  if (!model.state) {
    page.innerHTML = model.error ? `<p class="error">Cannot load the master's state: ${esc(model.error.message)}</p>` : '<p class="muted">Loading the cluster\'s state…</p>';
    return;
  }
  $('#cluster-name').textContent = model.state.cluster || '';
  if (parts[0] === 'agents' && parts[2] === 'view') {
    // The log viewer keeps its element (and scroll position) across updates.
    if (!$('#log') || page.dataset.route !== routeKey) {
      page.innerHTML = viewPage(parts[1], params);
      page.dataset.route = routeKey;
    } else {
      viewPage(parts[1], params);
    }
    renderLog();
    return;
  }
  let html;
  if (parts.length === 0) html = dashboard();
  else if (parts[0] === 'frameworks') html = parts[1] ? frameworkPage(parts[1]) : frameworksPage();
  else if (parts[0] === 'agents' && parts[2] === 'browse') html = browsePage(parts[1], params);
  else if (parts[0] === 'agents') html = parts[1] ? agentPage(parts[1]) : agentsPage();
  else if (parts[0] === 'tasks') html = parts[2] ? taskPage(parts[1], parts[2]) : tasksPage(params);
  else if (parts[0] === 'offers') html = offersPage();
  else if (parts[0] === 'roles') html = rolesPage();
  else { location.hash = '#/'; return; }
  // Keep a selection the user is making: re-render once it is gone.
  const selection = window.getSelection();
  if (selection && !selection.isCollapsed && page.contains(selection.anchorNode) && page.dataset.route === routeKey) {
    setTimeout(changed, 1000);
    return;
  }
  // Keep the focus and caret of a filter box the user is typing in.
  const active = document.activeElement;
  const filter = active && active.dataset && (active.dataset.filter || (active.id === 'task-q' ? 'q' : null));
  const caret = filter ? active.selectionStart : 0;
  page.innerHTML = html;
  page.dataset.route = routeKey;
  if (filter) {
    const again = filter === 'q' ? $('#task-q') : document.querySelector(`input[data-filter="${filter}"]`);
    if (again) { again.focus(); again.setSelectionRange(caret, caret); }
  }
}

function banner() {
  const el = $('#banner');
  const s = model.state;
  let text = '';
  if (s && !s.leader) {
    text = 'No master is currently leading the cluster. This page will update once one is elected.';
  } else if (s && s.leader !== s.pid) {
    const l = s.leader_info || {};
    const target = `//${l.hostname}:${l.port}/${location.hash}`;
    text = `This master is not the leader. The leading master is <a id="leader-link" href="${esc(target)}">${esc(l.hostname)}:${esc(l.port)}</a>.`;
    // Served directly (not behind a prefix proxy, whose leader address may be unreachable):
    // follow the leader.
    if (location.pathname === '/' && l.hostname && !sessionStorage.getItem('mesos.followed')) {
      sessionStorage.setItem('mesos.followed', '1');
      location.href = target;
    }
  }
  el.hidden = !text;
  el.innerHTML = text;
}

window.addEventListener('hashchange', refresh);
setInterval(() => { if (document.querySelector('time')) changed(); }, 30000);

// Only the leader streams events (a standby redirects or refuses SUBSCRIBE): a page on a
// standby polls, and subscribes once its master leads.
function leading() {
  return !!(model.state && model.state.leader && model.state.leader === model.state.pid);
}

let subscribed = false;
function maybeSubscribe() {
  if (subscribed || !leading()) return;
  subscribed = true;
  subscribe();
}

// A big cluster (above these) is shown from summaries: /master/state would be tens of MB.
const BIG_TASKS = 5000;
const BIG_AGENTS = 1000;

async function loadSummary() {
  const response = await fetch(`webui/summary?limit=${PAGE_SIZE}`, { headers: { Accept: 'application/json' } });
  if (!response.ok) throw new Error(`webui/summary: ${response.status}`);
  const text = await response.text();
  if (text !== lastStateText || !model.state) {
    lastStateText = text;
    setState(JSON.parse(text));
  }
}

function isBig(summary) {
  const tasks = Object.values((summary.summary || {}).tasks || {}).reduce((a, b) => a + b, 0);
  const agents = Number(summary.activated_slaves || 0) + Number(summary.deactivated_slaves || 0);
  return tasks > BIG_TASKS || agents > BIG_AGENTS;
}

// Big clusters: the summary (counts, resources, the latest tasks) every second, and server-side
// task search; the whole state is never downloaded.
function followSummary() {
  setMode('polling', 'summary every 1s');
  $('#live').title = 'a big cluster: following /webui/summary';
  const tick = async () => {
    try {
      await loadSummary();
      setMode('polling', 'summary every 1s');
    } catch (error) {
      model.error = error;
      setMode('down', 'cannot reach the master; retrying');
    }
    setTimeout(tick, 1000);
  };
  setTimeout(tick, 1000);
}

(async function main() {
  try {
    const summary = await getJSON(`webui/summary?limit=${PAGE_SIZE}`);
    // `?big` in the page's address forces the big-cluster view (to try it on a small one).
    if (isBig(summary) || new URLSearchParams(location.search).has('big')) {
      model.big = true;
      setState(summary);
      refresh();
      followSummary();
      return;
    }
  } catch (_) {
    // A master without the summary: the whole state it is.
  }
  await loadState();
  refresh();
  if (leading()) maybeSubscribe();
  else startPolling('this master does not lead: no event stream');
}());
