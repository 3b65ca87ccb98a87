#!/usr/bin/env node
// expand.js expands the events of .ics files with ical.js and prints one
// JSON line per occurrence, for tests that compare expansions.
//
// Usage: node expand.js [--until YYYY-MM-DD] [--max N] FILE...
//
//   --until  last date to expand (default: 10 years after each DTSTART);
//            needed for series without end
//   --max    most occurrences per series (default 5000)
//
// Each line: {"file", "uid", "summary", "start", "end", "tzid",
// "local_start", "local_end", "recurrence_id", "modified", "all_day"}:
// start and end are UTC (ISO 8601, "Z"); local_start and local_end are the
// wall-clock times "YYYY-MM-DD HH:MM" in the zone of the series' DTSTART
// (tzid; the VTIMEZONE of the file is what ical.js uses) or dates
// "YYYY-MM-DD" for all-day events; recurrence_id is the original start of
// the instance in UTC; modified tells whether a RECURRENCE-ID override
// replaced it. Occurrences come in start order per series. Non-recurring
// events print one line.
//
// Exit status: 0 on success, 1 when a file cannot be parsed, 2 on usage
// errors.
'use strict';

const fs = require('fs');
const ICALmod = require('ical.js');
const ICAL = ICALmod.default || ICALmod;

function pad(n, w) {
  return String(n).padStart(w || 2, '0');
}

function wall(t) {
  const d = `${pad(t.year, 4)}-${pad(t.month)}-${pad(t.day)}`;
  return t.isDate ? d : `${d} ${pad(t.hour)}:${pad(t.minute)}`;
}

function utc(t) {
  return t.toJSDate().toISOString().replace('.000Z', 'Z');
}

function inZone(t, zone) {
  if (t.isDate || !zone) return t;
  return t.convertToZone(zone);
}

function expandFile(file, opts, out) {
  const comp = new ICAL.Component(ICAL.parse(fs.readFileSync(file, 'utf8')));
  for (const tz of comp.getAllSubcomponents('vtimezone')) {
    const zone = new ICAL.Timezone(tz);
    ICAL.TimezoneService.register(zone, tz.getFirstPropertyValue('tzid'));
  }
  const vevents = comp.getAllSubcomponents('vevent');
  const masters = new Map();
  const overrides = [];
  for (const v of vevents) {
    if (v.hasProperty('recurrence-id')) overrides.push(v);
    else masters.set(v.getFirstPropertyValue('uid'), new ICAL.Event(v));
  }
  for (const o of overrides) {
    const m = masters.get(o.getFirstPropertyValue('uid'));
    if (m) m.relateException(new ICAL.Event(o));
    else masters.set(`${o.getFirstPropertyValue('uid')}#orphan`, new ICAL.Event(o));
  }
  for (const [uid, ev] of masters) {
    const zone = ev.startDate.zone;
    const tzid = ev.startDate.timezone || (zone && zone.tzid) || '';
    const emit = (start, end, item, rid, modified) => {
      const s = inZone(start, zone);
      const e = inZone(end, zone);
      out.push(JSON.stringify({
        file, uid, summary: item.summary || '', start: utc(start), end: utc(end), tzid,
        local_start: wall(s), local_end: wall(e), recurrence_id: rid ? utc(rid) : '',
        modified, all_day: start.isDate,
      }));
    };
    if (!ev.isRecurring()) {
      emit(ev.startDate, ev.endDate, ev, ev.recurrenceId, false);
      continue;
    }
    let until = opts.until;
    if (!until) {
      until = ev.startDate.clone();
      until.year += 10;
    }
    const it = ev.iterator();
    let n = 0;
    for (let next = it.next(); next && n < opts.max; next = it.next()) {
      if (next.compareDateOnlyTz(until, next.zone) > 0) break;
      const d = ev.getOccurrenceDetails(next);
      const modified = d.item !== ev;
      emit(d.startDate, d.endDate, d.item, d.recurrenceId, modified);
      n++;
    }
  }
}

function main(argv) {
  const opts = { until: null, max: 5000 };
  const files = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--until') {
      const v = argv[++i];
      if (!/^\d{4}-\d{2}-\d{2}$/.test(v || '')) {
        console.error('--until wants YYYY-MM-DD');
        return 2;
      }
      opts.until = ICAL.Time.fromDateString(v);
    } else if (a === '--max') {
      opts.max = parseInt(argv[++i], 10);
      if (!(opts.max > 0)) {
        console.error('--max wants a positive number');
        return 2;
      }
    } else if (a === '-h' || a === '--help') {
      console.log('usage: node expand.js [--until YYYY-MM-DD] [--max N] FILE...');
      return 0;
    } else files.push(a);
  }
  if (files.length === 0) {
    console.error('usage: node expand.js [--until YYYY-MM-DD] [--max N] FILE...');
    return 2;
  }
  let failed = 0;
  for (const f of files) {
    const out = [];
    try {
      expandFile(f, opts, out);
    } catch (e) {
      console.error(`FAIL ${f}: ${e.message}`);
      failed++;
      continue;
    }
    for (const line of out) console.log(line);
  }
  return failed > 0 ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
