// Date functions, all UTC; Now() reads EvalContext.now.
import { dateAdd, dateDiff, formatDate, fromFileTime, interval, parseDate, toFileTime } from './dates.js';
import { formatWithFormat, parseWithFormat } from './netformat.js';
import { type FunctionSpec, opt, p } from './spec.js';
import { int, str, type Val } from './values.js';

const date = (v: Val | undefined, fn: string) => {
  const s = str(v, fn);
  return s === null ? null : parseDate(s, fn);
};

export const dateFunctions: FunctionSpec[] = [
  {
    name: 'CDate',
    params: [p('expression')],
    min: 1,
    max: 1,
    strict: ([v]) => {
      const ms = date(v, 'CDate');
      return ms === null ? null : formatDate(ms);
    },
    note: 'Reads ISO-8601 (offsets honoured; none means UTC) and M/d/yyyy h:mm:ss tt, not every form .NET DateTime.Parse accepts (month names, other cultures); output M/d/yyyy h:mm:ss tt UTC.',
  },
  { name: 'Now', params: [], min: 0, max: 0, strict: (_, env) => formatDate(env.ctx.now.getTime()) },
  {
    name: 'DateAdd',
    params: [p('interval'), p('value', { type: 'Integer' }), p('dateTime', { type: 'DateTime' })],
    min: 3,
    max: 3,
    strict: ([iv, n, d]) => {
      const ms = date(d, 'DateAdd');
      if (ms === null) return null;
      return formatDate(dateAdd(interval(str(iv, 'DateAdd') ?? '', 'DateAdd'), int(n, 'DateAdd', 'value'), ms));
    },
  },
  {
    name: 'DateDiff',
    params: [p('interval'), p('date1', { type: 'DateTime' }), p('date2', { type: 'DateTime' })],
    min: 3,
    max: 3,
    strict: ([iv, a, b]) => {
      const d1 = date(a, 'DateDiff');
      const d2 = date(b, 'DateDiff');
      if (d1 === null || d2 === null) return null;
      return dateDiff(interval(str(iv, 'DateDiff') ?? '', 'DateDiff'), d1, d2);
    },
    note: 'VB semantics: calendar boundaries crossed (ww: Sunday-start weeks), positive when date2 is later.',
  },
  {
    name: 'DateFromNum',
    params: [p('value', { type: 'Integer' })],
    min: 1,
    max: 1,
    strict: ([v]) => {
      const s = str(v, 'DateFromNum');
      return s === null ? null : formatDate(fromFileTime(s, 'DateFromNum'));
    },
  },
  {
    name: 'NumFromDate',
    params: [p('value', { type: 'DateTime' })],
    min: 1,
    max: 1,
    strict: ([v]) => {
      const ms = date(v, 'NumFromDate');
      return ms === null ? null : toFileTime(ms);
    },
    note: 'The FILETIME number is returned as text (it exceeds 2^53).',
  },
  {
    name: 'FormatDateTime',
    params: [p('source'), opt('dateTimeStyles'), p('inputFormat'), p('outputFormat')],
    min: 3,
    max: 4,
    strict: (vals) => {
      // Three arguments: the older signature (source, inputFormat, outputFormat) Graph still lists.
      const [src, inFmt, outFmt] = (vals.length === 3 ? vals : [vals[0], vals[2], vals[3]]) as Val[];
      const s = str(src, 'FormatDateTime');
      if (s === null) return null;
      const fields = parseWithFormat(s, str(inFmt, 'FormatDateTime') ?? '');
      return formatWithFormat(fields, str(outFmt, 'FormatDateTime') ?? '');
    },
    note: 'dateTimeStyles is accepted and ignored: the wall-clock fields read are written back unconverted.',
  },
];
