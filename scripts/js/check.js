#!/usr/bin/env node
// check.js parses every .ics, .vfb (free/busy) and .vcf file under the given
// paths (files or directories, searched recursively) with ical.js and
// reports failures.
//
// Usage: node check.js [--strict] [--dump] PATH...
//
//   --strict  also check the raw text: CRLF line endings only, physical
//             lines of at most 75 octets, valid UTF-8, and (iCalendar) a
//             VTIMEZONE in the same file for every TZID parameter.
//   --dump    print one JSON line per file: {"file": PATH, "jcal": [...]}
//             with the parsed jCal/jCard (ical.js's JSON form), for tests
//             that compare parsed values.
//
// Output: one line "FAIL PATH: REASON" per failure, then a summary line.
// Exit status: 0 when every file parsed (and passed the strict checks),
// 1 when any failed, 2 on usage errors.
'use strict';

const fs = require('fs');
const path = require('path');
const ICALmod = require('ical.js');
const ICAL = ICALmod.default || ICALmod;

function walk(p, out) {
  const st = fs.statSync(p);
  if (st.isDirectory()) {
    for (const name of fs.readdirSync(p).sort()) {
      if (name === 'node_modules') continue;
      walk(path.join(p, name), out);
    }
  } else if (/\.(ics|vfb|vcf)$/i.test(p)) {
    out.push(p);
  }
}

function strictText(buf) {
  const problems = [];
  const text = buf.toString('utf8');
  if (Buffer.compare(Buffer.from(text, 'utf8'), buf) !== 0) {
    problems.push('invalid UTF-8');
  }
  let start = 0;
  let lineNo = 1;
  while (start < buf.length) {
    let end = buf.indexOf(0x0a, start);
    if (end < 0) {
      problems.push(`line ${lineNo}: missing final CRLF`);
      break;
    }
    if (end === start || buf[end - 1] !== 0x0d) {
      problems.push(`line ${lineNo}: bare LF line ending`);
    }
    const len = end - start - (buf[end - 1] === 0x0d ? 1 : 0);
    if (len > 75) {
      problems.push(`line ${lineNo}: ${len} octets (more than 75)`);
    }
    const cr = buf.indexOf(0x0d, start);
    if (cr >= 0 && cr < end - 1) {
      problems.push(`line ${lineNo}: bare CR`);
    }
    start = end + 1;
    lineNo++;
    if (problems.length > 5) break;
  }
  return problems;
}

function roots(jcal) {
  // ICAL.parse returns one component, or an array of them for several
  // top-level components (e.g. a .vcf holding many cards).
  if (Array.isArray(jcal) && typeof jcal[0] === 'string') return [jcal];
  return jcal;
}

function checkCalendar(comp, strict) {
  const problems = [];
  if (comp.name !== 'vcalendar') {
    return [`top-level component is ${comp.name}, not vcalendar`];
  }
  for (const p of ['version', 'prodid']) {
    if (!comp.hasProperty(p)) problems.push(`VCALENDAR without ${p.toUpperCase()}`);
  }
  const zones = new Set();
  for (const tz of comp.getAllSubcomponents('vtimezone')) {
    const id = tz.getFirstPropertyValue('tzid');
    zones.add(id);
    try {
      const zone = new ICAL.Timezone(tz);
      ICAL.TimezoneService.register(zone, id);
    } catch (e) {
      problems.push(`VTIMEZONE ${id}: ${e.message}`);
    }
  }
  const visit = (c) => {
    for (const prop of c.getAllProperties()) {
      const tzid = prop.getParameter('tzid');
      if (strict && tzid && !zones.has(tzid)) {
        problems.push(`${c.name.toUpperCase()} ${prop.name.toUpperCase()}: TZID ${tzid} has no VTIMEZONE`);
      }
    }
    for (const sub of c.getAllSubcomponents()) visit(sub);
  };
  visit(comp);
  for (const name of ['vevent', 'vtodo']) {
    for (const sub of comp.getAllSubcomponents(name)) {
      const uid = sub.getFirstPropertyValue('uid');
      if (!uid) problems.push(`${name.toUpperCase()} without UID`);
      try {
        // Resolve every date, which exercises value parsing and timezones.
        for (const prop of sub.getAllProperties()) {
          for (const v of prop.getValues()) {
            if (v && typeof v.toJSDate === 'function') {
              const d = v.toJSDate();
              if (isNaN(d.getTime())) throw new Error(`${prop.name}: invalid date`);
            }
          }
        }
        if (name === 'vevent') {
          const ev = new ICAL.Event(sub);
          if (ev.isRecurring()) {
            const it = ev.iterator();
            for (let i = 0; i < 3; i++) {
              if (!it.next()) break;
            }
          }
        }
      } catch (e) {
        problems.push(`${name.toUpperCase()} ${uid}: ${e.message}`);
      }
    }
  }
  for (const fb of comp.getAllSubcomponents('vfreebusy')) {
    problems.push(...checkFreeBusy(fb));
  }
  return problems;
}

// checkFreeBusy checks a VFREEBUSY against RFC 5545 3.6.4 and 3.8.2.6:
// DTSTAMP and UID once; FREEBUSY values are UTC periods with start before
// end, inside DTSTART/DTEND when those are given; FBTYPE one of the
// registered values or an X- name.
function checkFreeBusy(fb) {
  const problems = [];
  for (const p of ['dtstamp', 'uid']) {
    if (fb.getAllProperties(p).length !== 1) problems.push(`VFREEBUSY needs exactly one ${p.toUpperCase()}`);
  }
  const start = fb.getFirstPropertyValue('dtstart');
  const end = fb.getFirstPropertyValue('dtend');
  for (const prop of fb.getAllProperties('freebusy')) {
    const type = prop.getParameter('fbtype') || 'BUSY';
    if (!/^(FREE|BUSY|BUSY-UNAVAILABLE|BUSY-TENTATIVE|X-.+)$/i.test(type)) problems.push(`FREEBUSY: FBTYPE ${type}`);
    for (const v of prop.getValues()) {
      if (!v || typeof v.getEnd !== 'function') {
        problems.push(`FREEBUSY: not a period: ${JSON.stringify(v)}`);
        continue;
      }
      const s = v.start;
      const e = v.getEnd();
      if (s.zone !== ICAL.Timezone.utcTimezone || e.zone !== ICAL.Timezone.utcTimezone) problems.push(`FREEBUSY ${v}: not UTC`);
      if (s.compare(e) >= 0) problems.push(`FREEBUSY ${v}: start not before end`);
      if (start && s.compare(start) < 0) problems.push(`FREEBUSY ${v}: before DTSTART`);
      if (end && e.compare(end) > 0) problems.push(`FREEBUSY ${v}: after DTEND`);
    }
  }
  return problems;
}

function checkCard(comp, strict) {
  const problems = [];
  if (comp.name !== 'vcard') {
    return [`top-level component is ${comp.name}, not vcard`];
  }
  const version = comp.getFirstPropertyValue('version');
  if (version !== '3.0' && version !== '4.0') problems.push(`unsupported VERSION ${version}`);
  if (!comp.hasProperty('fn')) problems.push('VCARD without FN');
  if (strict && version === '3.0' && !comp.hasProperty('n')) problems.push('vCard 3.0 without N');
  for (const prop of comp.getAllProperties()) {
    // Touch every value so that type-specific parsing errors surface.
    prop.getValues();
  }
  return problems;
}

function checkFile(file, opts) {
  const buf = fs.readFileSync(file);
  const problems = opts.strict ? strictText(buf) : [];
  let jcal;
  try {
    jcal = ICAL.parse(buf.toString('utf8'));
  } catch (e) {
    return { problems: problems.concat([`parse error: ${e.message}`]) };
  }
  const list = roots(jcal);
  if (!list || list.length === 0) problems.push('no components');
  const isICS = /\.(ics|vfb)$/i.test(file);
  for (const j of list || []) {
    try {
      const comp = new ICAL.Component(j);
      const ps = isICS ? checkCalendar(comp, opts.strict) : checkCard(comp, opts.strict);
      problems.push(...ps);
    } catch (e) {
      problems.push(`error: ${e.message}`);
    }
  }
  return { problems, jcal };
}

function main(argv) {
  const opts = { strict: false, dump: false };
  const paths = [];
  for (const a of argv) {
    if (a === '--strict') opts.strict = true;
    else if (a === '--dump') opts.dump = true;
    else if (a === '-h' || a === '--help') {
      console.log('usage: node check.js [--strict] [--dump] PATH...');
      return 0;
    } else paths.push(a);
  }
  if (paths.length === 0) {
    console.error('usage: node check.js [--strict] [--dump] PATH...');
    return 2;
  }
  const files = [];
  for (const p of paths) {
    try {
      walk(p, files);
    } catch (e) {
      console.log(`FAIL ${p}: ${e.message}`);
      return 1;
    }
  }
  let failed = 0;
  for (const f of files) {
    let res;
    try {
      res = checkFile(f, opts);
    } catch (e) {
      res = { problems: [`error: ${e.message}`] };
    }
    if (res.problems.length > 0) {
      failed++;
      console.log(`FAIL ${f}: ${res.problems.join('; ')}`);
    }
    if (opts.dump && res.jcal !== undefined) {
      console.log(JSON.stringify({ file: f, jcal: res.jcal }));
    }
  }
  console.log(`ical.js check: ${files.length} files, ${files.length - failed} ok, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
