// The hosted invoice page and the invoice PDF that Pinstripe serves in place of Stripe's
// invoice.stripe.com / pay.stripe.com: an invoice's `hosted_invoice_url` and `invoice_pdf`
// (see invoiceDocumentUrls) point here. Both are rendered from the invoice object alone by
// pure functions (renderInvoiceHtml, renderInvoicePdf), so they can be tested without a
// server. Not part of the API: no key; the invoice id in the URL is the capability, as the
// unguessable path of Stripe's hosted page is. Drafts and unknown ids get a 404 page: Stripe
// gives a draft no hosted page or PDF until it is finalized. A credit note's `pdf`
// (/pinstripe/credit_notes/{account}/{mode}/{note}/pdf) is rendered the same way
// (renderCreditNotePdf), its customer taken from the credited invoice.
//
// The PDF is written here rather than with a library: one page size (US Letter, or A4 when
// rendering.pdf.page_size says so), the standard Helvetica fonts every reader has (no
// embedding), uncompressed content streams, and a correct cross-reference table. That is a
// few hundred lines and no dependency; pdf-lib would bring 1 MB and its own font handling for
// the same result.
import type { Services } from '../api/context.js';
import { decimals, formatAmount } from '../engine/payments/money.js';
import type { App } from '../http/server.js';
import type { Scope } from '../store/store.js';

type Obj = Record<string, any>;

/** The two URLs an invoice carries, for the invoices engine: `origin` is the request's scheme and host (ctx.origin). */
export function invoiceDocumentUrls(origin: string, scope: Scope, invoiceId: string): { hosted_invoice_url: string; invoice_pdf: string } {
  const base = `${origin}/pinstripe/invoices/${scope.account}/${scope.livemode ? 'live' : 'test'}/${invoiceId}`;
  return { hosted_invoice_url: base, invoice_pdf: `${base}/pdf` };
}

// ---- What both documents show

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** "December 1, 2026" (UTC). */
export function formatDate(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return '';
  const d = new Date(seconds * 1000);
  return `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}, ${d.getUTCFullYear()}`;
}

/** "$12.00" for currencies with a symbol, "12.00 CHF" otherwise; negatives as "-$1.00". */
export function money(amount: number, currency: string): string {
  const cur = currency.toLowerCase();
  const s = formatAmount(Math.abs(amount), cur);
  const withCode = /^\d/.test(s) ? `${s} ${cur.toUpperCase()}` : s;
  return amount < 0 ? `-${withCode}` : withCode;
}

/** A unit price from a decimal string of minor units ("12.5" cents), as the line's pricing carries it. */
function moneyDecimal(minor: string, currency: string): string {
  const n = Number(minor);
  if (Number.isInteger(n)) return money(n, currency);
  const d = decimals(currency.toLowerCase());
  const major = (n / 10 ** d).toFixed(Math.min(12, d + 4)).replace(/0+$/, '');
  const s = formatAmount(0, currency.toLowerCase()).replace(/[\d.]+/, major);
  return /^\d/.test(s) ? `${s} ${currency.toUpperCase()}` : s;
}

export interface InvoiceLineView {
  description: string;
  period: string;
  quantity: string;
  unitPrice: string;
  amount: string;
}

export interface InvoiceView {
  title: string;
  number: string;
  status: string;
  issued: string;
  due: string;
  from: string;
  billTo: string[];
  headline: string;
  description: string | null;
  lines: InvoiceLineView[];
  totals: Array<{ label: string; value: string; strong?: boolean }>;
  footer: string | null;
  /** The labelled facts under the title (number, dates, …), in order. */
  facts: Array<[string, string]>;
}

function addressLines(a: Obj | null | undefined): string[] {
  if (!a) return [];
  const cityLine = [a.city, a.state, a.postal_code].filter(Boolean).join(', ');
  return [a.line1, a.line2, cityLine, a.country].filter((x): x is string => typeof x === 'string' && x !== '');
}

function unitPrice(line: Obj, currency: string): string {
  const dec = line.pricing?.unit_amount_decimal ?? line.price?.unit_amount_decimal ?? line.unit_amount_decimal ?? line.unit_amount_excluding_tax;
  if (typeof dec === 'string' && dec !== '') return moneyDecimal(dec, currency);
  if (typeof line.price?.unit_amount === 'number') return money(line.price.unit_amount, currency);
  if (typeof line.quantity === 'number' && line.quantity > 0 && Number.isInteger(line.amount / line.quantity)) return money(line.amount / line.quantity, currency);
  return '';
}

function lineView(l: Obj, cur: string): InvoiceLineView {
  return {
    description: l.description ?? '',
    period: l.period && l.period.start !== l.period.end ? `${formatDate(l.period.start)} – ${formatDate(l.period.end)}` : '',
    quantity: l.quantity === null || l.quantity === undefined ? '' : String(l.quantity_decimal ?? l.quantity),
    unitPrice: unitPrice(l, l.currency ?? cur),
    amount: money(l.amount ?? 0, l.currency ?? cur),
  };
}

/** The facts both renderings show, in Stripe's wording ("Amount due", "Date of issue", …). */
export function invoiceView(invoice: Obj, opts: { accountName?: string | null } = {}): InvoiceView {
  const cur: string = invoice.currency ?? 'usd';
  const lines: Obj[] = invoice.lines?.data ?? [];
  const issuedAt = invoice.status_transitions?.finalized_at ?? invoice.effective_at ?? invoice.created;
  const status: string = invoice.status ?? 'draft';
  const dueDate = invoice.due_date ?? null;
  const totals: InvoiceView['totals'] = [{ label: 'Subtotal', value: money(invoice.subtotal ?? 0, cur) }];
  for (const d of invoice.total_discount_amounts ?? []) {
    if (d.amount) totals.push({ label: 'Discount', value: money(-d.amount, cur) });
  }
  const taxes: Obj[] = invoice.total_taxes ?? invoice.total_tax_amounts ?? [];
  const tax = taxes.reduce((n, x) => n + (x.amount ?? 0), 0);
  if (tax) totals.push({ label: 'Tax', value: money(tax, cur) });
  totals.push({ label: 'Total', value: money(invoice.total ?? 0, cur) });
  const applied = (invoice.starting_balance ?? 0) - (invoice.ending_balance ?? invoice.starting_balance ?? 0);
  if (applied) totals.push({ label: 'Applied balance', value: money(applied, cur) });
  if (invoice.amount_paid) totals.push({ label: 'Amount paid', value: money(-invoice.amount_paid, cur) });
  totals.push({ label: 'Amount due', value: money(invoice.amount_due ?? 0, cur), strong: true });

  const dueText = status === 'paid' ? `Paid ${formatDate(invoice.status_transitions?.paid_at ?? issuedAt)}`
    : status === 'void' ? 'Void'
    : status === 'uncollectible' ? 'Uncollectible'
    : dueDate ? `due ${formatDate(dueDate)}` : '';
  return {
    title: status === 'paid' ? 'Receipt' : 'Invoice',
    number: invoice.number ?? 'Draft',
    status,
    issued: formatDate(issuedAt),
    due: dueDate ? formatDate(dueDate) : '',
    from: opts.accountName ?? invoice.account_name ?? 'Pinstripe test account',
    billTo: [invoice.customer_name, invoice.customer_email, ...addressLines(invoice.customer_address)].filter((x): x is string => typeof x === 'string' && x !== ''),
    headline: `${money(status === 'paid' ? invoice.amount_paid ?? 0 : invoice.amount_due ?? 0, cur)} ${dueText}`.trim(),
    description: invoice.description ?? null,
    lines: lines.map((l) => lineView(l, cur)),
    totals,
    footer: invoice.footer ?? null,
    facts: [['Invoice number', invoice.number ?? 'Draft'], ['Date of issue', formatDate(issuedAt)], ...(dueDate ? [['Date due', formatDate(dueDate)] as [string, string]] : [])],
  };
}

// ---- HTML

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export interface HtmlOptions {
  /** Link to the PDF (the route passes the invoice_pdf URL). */
  pdfUrl?: string | null;
  accountName?: string | null;
}

/** The hosted invoice page: a complete HTML document. */
export function renderInvoiceHtml(invoice: Obj, opts: HtmlOptions = {}): string {
  const v = invoiceView(invoice, opts);
  const rows = v.lines.map((l) =>
    `<tr><td>${esc(l.description)}${l.period ? `<div class="period">${esc(l.period)}</div>` : ''}</td>` +
    `<td class="num">${esc(l.quantity)}</td><td class="num">${esc(l.unitPrice)}</td><td class="num">${esc(l.amount)}</td></tr>`).join('\n');
  const totals = v.totals.map((t) => `<tr${t.strong ? ' class="strong"' : ''}><td>${esc(t.label)}</td><td class="num">${esc(t.value)}</td></tr>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(`${v.title} ${v.number} from ${v.from}`)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;color:#1a1f36;background:#f6f8fa;margin:0;padding:2rem 1rem}
main{max-width:44rem;margin:0 auto;background:#fff;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.12);padding:2rem}
h1{font-size:1.1rem;margin:0 0 .25rem;color:#697386;font-weight:500}.headline{font-size:2rem;font-weight:600;margin:.25rem 0 1rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:0 0 1.5rem}dt{color:#697386}dd{margin:0}
.parties{display:flex;gap:3rem;margin-bottom:1.5rem}.parties h2{font-size:.8rem;text-transform:uppercase;color:#697386;margin:0 0 .25rem}
table{width:100%;border-collapse:collapse}th{text-align:left;font-size:.8rem;color:#697386;border-bottom:1px solid #e3e8ee;padding:.5rem 0}
td{padding:.5rem 0;border-bottom:1px solid #f0f2f5;vertical-align:top}.num{text-align:right;white-space:nowrap;padding-left:1rem}
.period{color:#697386;font-size:.85rem}.totals{width:60%;margin-left:auto;margin-top:1rem}.strong td{font-weight:600;border-bottom:none}
.badge{display:inline-block;font-size:.75rem;padding:.1rem .5rem;border-radius:4px;background:#e3e8ee;text-transform:capitalize}
.badge.paid{background:#cbf4c9;color:#0e6245}.badge.open{background:#d6ecff;color:#3d4eac}.badge.void,.badge.uncollectible{background:#ffe1e1;color:#a41c4e}
footer{margin-top:2rem;color:#697386;font-size:.85rem}a.pdf{display:inline-block;margin-top:1rem}
</style></head>
<body><main>
<h1>${esc(v.title)} from ${esc(v.from)} <span class="badge ${esc(v.status)}" id="status">${esc(v.status)}</span></h1>
<div class="headline" id="amount-due">${esc(v.headline)}</div>
<dl>
<dt>Invoice number</dt><dd id="number">${esc(v.number)}</dd>
<dt>Date of issue</dt><dd id="issued">${esc(v.issued)}</dd>
${v.due ? `<dt>Date due</dt><dd id="due">${esc(v.due)}</dd>\n` : ''}</dl>
<div class="parties"><div><h2>From</h2><div>${esc(v.from)}</div></div>
<div><h2>Bill to</h2><div id="bill-to">${v.billTo.map(esc).join('<br>') || '&nbsp;'}</div></div></div>
${v.description ? `<p>${esc(v.description)}</p>\n` : ''}<table id="lines"><thead><tr><th>Description</th><th class="num">Qty</th><th class="num">Unit price</th><th class="num">Amount</th></tr></thead>
<tbody>
${rows}
</tbody></table>
<table class="totals" id="totals"><tbody>
${totals}
</tbody></table>
${opts.pdfUrl ? `<a class="pdf" id="download" href="${esc(opts.pdfUrl)}">Download ${v.title === 'Receipt' ? 'receipt' : 'invoice'} (PDF)</a>\n` : ''}${v.footer ? `<footer>${esc(v.footer)}</footer>\n` : ''}</main></body></html>
`;
}

// ---- PDF

// Advance widths (1/1000 em) of Helvetica and Helvetica-Bold for ASCII 32–126, from their AFM files.
const HELVETICA = [278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556, 556, 556, 556,
  556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722,
  667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833,
  556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584];
const HELVETICA_BOLD = [278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556, 556, 556,
  556, 556, 556, 333, 333, 584, 584, 584, 611, 975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778, 667, 778,
  722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556, 333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278,
  889, 611, 611, 611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584];

/** WinAnsiEncoding bytes of a string: Latin-1 as is, a few typographic characters mapped, the rest '?'. */
const WIN_ANSI_EXTRA: Record<string, number> = { '€': 0x80, '‚': 0x82, '„': 0x84, '…': 0x85, '‘': 0x91, '’': 0x92, '“': 0x93, '”': 0x94, '•': 0x95, '–': 0x96, '—': 0x97, '™': 0x99 };
const NOT_IN_WIN_ANSI: Record<string, string> = { '₹': 'INR ', '₩': 'KRW ' };
function winAnsi(s: string): number[] {
  const out: number[] = [];
  for (const ch of s.replace(/[₹₩]/g, (c) => NOT_IN_WIN_ANSI[c]!)) {
    const c = ch.codePointAt(0)!;
    if (WIN_ANSI_EXTRA[ch] !== undefined) out.push(WIN_ANSI_EXTRA[ch]!);
    else if (c === 0x09 || c === 0x0a || c === 0x0d) out.push(0x20);
    else if ((c >= 0x20 && c <= 0x7e) || (c >= 0xa0 && c <= 0xff)) out.push(c);
    else out.push(0x3f);
  }
  return out;
}

function textWidth(bytes: number[], size: number, bold: boolean): number {
  const table = bold ? HELVETICA_BOLD : HELVETICA;
  return bytes.reduce((w, b) => w + (b >= 32 && b <= 126 ? table[b - 32]! : 556), 0) * size / 1000;
}

/** A PDF literal string of WinAnsi bytes, with ( ) \ escaped and bytes above 0x7e as octal escapes. */
function pdfString(bytes: number[]): string {
  let s = '(';
  for (const b of bytes) {
    if (b === 0x28 || b === 0x29 || b === 0x5c) s += `\\${String.fromCharCode(b)}`;
    else if (b > 0x7e) s += `\\${b.toString(8).padStart(3, '0')}`;
    else s += String.fromCharCode(b);
  }
  return `${s})`;
}

interface PageSize { width: number; height: number }
const PAGE_SIZES: Record<string, PageSize> = { letter: { width: 612, height: 792 }, a4: { width: 595.28, height: 841.89 } };

class PdfCanvas {
  readonly pages: string[][] = [];
  private ops: string[] = [];
  constructor(readonly size: PageSize) { this.newPage(); }
  newPage(): void { this.ops = []; this.pages.push(this.ops); }
  /** Text at (x, y) from the bottom left; `align: 'right'` ends it at x. Cut to `maxWidth` with an ellipsis. */
  text(s: string, x: number, y: number, o: { size?: number; bold?: boolean; align?: 'left' | 'right'; gray?: boolean; maxWidth?: number } = {}): void {
    const size = o.size ?? 10;
    const bold = !!o.bold;
    let bytes = winAnsi(s);
    if (o.maxWidth !== undefined && textWidth(bytes, size, bold) > o.maxWidth) {
      const dots = winAnsi('…');
      while (bytes.length && textWidth([...bytes, ...dots], size, bold) > o.maxWidth) bytes = bytes.slice(0, -1);
      bytes = [...bytes, ...dots];
    }
    const left = o.align === 'right' ? x - textWidth(bytes, size, bold) : x;
    const color = o.gray ? '0.41 0.45 0.53 rg' : '0.1 0.12 0.21 rg';
    this.ops.push(`BT ${color} /${bold ? 'F2' : 'F1'} ${size} Tf ${left.toFixed(2)} ${y.toFixed(2)} Td ${pdfString(bytes)} Tj ET`);
  }
  line(x1: number, y1: number, x2: number, y2: number): void {
    this.ops.push(`0.89 0.91 0.93 RG 0.75 w ${x1.toFixed(2)} ${y1.toFixed(2)} m ${x2.toFixed(2)} ${y2.toFixed(2)} l S`);
  }
}

/** Serialises pages into a PDF 1.4 file: catalog, page tree, two standard fonts, one content stream per page, xref, trailer. */
function pdfFile(canvas: PdfCanvas, info: { title: string; created: number }): Buffer {
  const objects: Buffer[] = [];
  const n = canvas.pages.length;
  // 1 catalog, 2 pages, 3 F1, 4 F2, 5 info, then (page, content) pairs.
  const pageIds = canvas.pages.map((_, i) => 6 + 2 * i);
  const add = (body: string | Buffer) => objects.push(typeof body === 'string' ? Buffer.from(body, 'latin1') : body);
  add('<< /Type /Catalog /Pages 2 0 R >>');
  add(`<< /Type /Pages /Kids [${pageIds.map((id) => `${id} 0 R`).join(' ')}] /Count ${n} >>`);
  add('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>');
  add('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>');
  const d = new Date(info.created * 1000).toISOString().replace(/[-:T]/g, '').slice(0, 14);
  add(`<< /Title ${pdfString(winAnsi(info.title))} /Producer (Pinstripe) /CreationDate (D:${d}Z) >>`);
  canvas.pages.forEach((ops, i) => {
    add(`<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${canvas.size.width} ${canvas.size.height}] /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents ${pageIds[i]! + 1} 0 R >>`);
    const stream = Buffer.from(ops.join('\n') + '\n', 'latin1');
    add(Buffer.concat([Buffer.from(`<< /Length ${stream.length} >>\nstream\n`, 'latin1'), stream, Buffer.from('endstream', 'latin1')]));
  });
  const parts: Buffer[] = [Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n', 'latin1')];
  let offset = parts[0]!.length;
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(offset);
    const chunk = Buffer.concat([Buffer.from(`${i + 1} 0 obj\n`, 'latin1'), body, Buffer.from('\nendobj\n', 'latin1')]);
    parts.push(chunk);
    offset += chunk.length;
  });
  const xref = `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}` +
    `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R /Info 5 0 R >>\nstartxref\n${offset}\n%%EOF\n`;
  parts.push(Buffer.from(xref, 'latin1'));
  return Buffer.concat(parts);
}

/** Lays out a document view (invoice or credit note) on as many pages as it needs. */
function renderViewPdf(v: InvoiceView, pageSize: string | null | undefined, created: number): Buffer {
  const size = PAGE_SIZES[pageSize === 'a4' ? 'a4' : 'letter']!;
  const c = new PdfCanvas(size);
  const M = 48;
  const right = size.width - M;
  let y = size.height - M - 16;
  c.text(v.title, M, y, { size: 22, bold: true });
  c.text(v.from, right, y + 4, { size: 12, bold: true, align: 'right', maxWidth: 250 });
  y -= 34;
  for (const [k, val] of v.facts) {
    c.text(k, M, y, { bold: true });
    c.text(val, M + 110, y, { maxWidth: right - M - 110 });
    y -= 15;
  }
  y -= 14;
  c.text('Bill to', M, y, { bold: true });
  y -= 15;
  for (const l of v.billTo) { c.text(l, M, y, { maxWidth: 260 }); y -= 14; }
  y -= 18;
  c.text(v.headline, M, y, { size: 16, bold: true, maxWidth: right - M });
  y -= 22;
  if (v.description) { c.text(v.description, M, y, { gray: true, maxWidth: right - M }); y -= 16; }
  y -= 12;

  const cols = { qty: right - 190, unit: right - 90, amount: right };
  const header = () => {
    c.text('Description', M, y, { size: 9, gray: true });
    c.text('Qty', cols.qty, y, { size: 9, gray: true, align: 'right' });
    c.text('Unit price', cols.unit, y, { size: 9, gray: true, align: 'right' });
    c.text('Amount', cols.amount, y, { size: 9, gray: true, align: 'right' });
    y -= 6;
    c.line(M, y, right, y);
    y -= 14;
  };
  header();
  const bottom = M + 40;
  for (const l of v.lines) {
    if (y - (l.period ? 12 : 0) < bottom) { c.newPage(); y = size.height - M - 16; header(); }
    c.text(l.description, M, y, { maxWidth: cols.qty - M - 40 });
    c.text(l.quantity, cols.qty, y, { align: 'right' });
    c.text(l.unitPrice, cols.unit, y, { align: 'right' });
    c.text(l.amount, cols.amount, y, { align: 'right' });
    if (l.period) { y -= 12; c.text(l.period, M, y, { size: 8, gray: true }); }
    y -= 18;
  }
  y -= 4;
  if (y - 18 * v.totals.length < bottom) { c.newPage(); y = size.height - M - 16; }
  const labelX = right - 250;
  c.line(labelX, y + 10, right, y + 10);
  for (const t of v.totals) {
    c.text(t.label, labelX, y, { bold: t.strong, maxWidth: 160 });
    c.text(t.value, right, y, { bold: t.strong, align: 'right' });
    y -= 18;
  }
  if (v.footer) {
    if (y - 20 < bottom) { c.newPage(); y = size.height - M - 16; }
    c.text(v.footer, M, y - 10, { size: 9, gray: true, maxWidth: right - M });
  }
  const pages = c.pages.length;
  c.pages.forEach((ops, i) => {
    ops.push(`BT 0.41 0.45 0.53 rg /F1 8 Tf ${M} ${M - 20} Td ${pdfString(winAnsi(`${v.number} · ${v.headline}`))} Tj ET`);
    const label = winAnsi(`Page ${i + 1} of ${pages}`);
    ops.push(`BT 0.41 0.45 0.53 rg /F1 8 Tf ${(right - textWidth(label, 8, false)).toFixed(2)} ${M - 20} Td ${pdfString(label)} Tj ET`);
  });
  return pdfFile(c, { title: `${v.title} ${v.number}`, created });
}

/** The invoice as a PDF document (a Buffer of a complete PDF file). */
export function renderInvoicePdf(invoice: Obj, opts: { accountName?: string | null } = {}): Buffer {
  return renderViewPdf(invoiceView(invoice, opts), invoice.rendering?.pdf?.page_size, invoice.created ?? 0);
}

const CREDIT_REASONS: Record<string, string> = {
  duplicate: 'Duplicate', fraudulent: 'Fraudulent', order_change: 'Order change', product_unsatisfactory: 'Product unsatisfactory',
};

/**
 * What a credit note's PDF shows (its `pdf` URL). The credit note does not carry the customer's
 * name or the invoice number: `invoice` (the credited invoice) supplies them when given.
 */
export function creditNoteView(note: Obj, opts: { invoice?: Obj | null; accountName?: string | null } = {}): InvoiceView {
  const cur: string = note.currency ?? 'usd';
  const inv = opts.invoice ?? null;
  const totals: InvoiceView['totals'] = [{ label: 'Subtotal', value: money(note.subtotal ?? 0, cur) }];
  for (const d of note.discount_amounts ?? []) if (d.amount) totals.push({ label: 'Discount', value: money(-d.amount, cur) });
  const taxes: Obj[] = note.total_taxes ?? note.tax_amounts ?? [];
  const tax = taxes.reduce((n, x) => n + (x.amount ?? 0), 0);
  if (tax) totals.push({ label: 'Tax', value: money(tax, cur) });
  totals.push({ label: 'Total credited', value: money(note.total ?? note.amount ?? 0, cur), strong: true });
  const refunded = (note.refunds ?? []).reduce((n: number, r: Obj) => n + (r.amount_refunded ?? 0), 0);
  if (refunded) totals.push({ label: 'Refunded', value: money(refunded, cur) });
  if (note.customer_balance_transaction) totals.push({ label: 'Credited to customer balance', value: money(note.total ?? 0, cur) });
  if (note.out_of_band_amount) totals.push({ label: 'Credited outside Stripe', value: money(note.out_of_band_amount, cur) });
  const facts: Array<[string, string]> = [['Credit note number', note.number ?? note.id], ['Date of issue', formatDate(note.effective_at ?? note.created)]];
  facts.push(['Original invoice', inv?.number ?? note.invoice ?? '']);
  if (note.reason) facts.push(['Reason', CREDIT_REASONS[note.reason] ?? String(note.reason)]);
  const status: string = note.status ?? 'issued';
  return {
    title: 'Credit note',
    number: note.number ?? note.id,
    status,
    issued: formatDate(note.effective_at ?? note.created),
    due: '',
    from: opts.accountName ?? inv?.account_name ?? 'Pinstripe test account',
    billTo: inv ? [inv.customer_name, inv.customer_email, ...addressLines(inv.customer_address)].filter((x): x is string => typeof x === 'string' && x !== '') : [String(note.customer ?? '')],
    headline: `${money(note.total ?? note.amount ?? 0, cur)} credited${status === 'void' ? ' (void)' : ''}`,
    description: note.memo ?? null,
    lines: (note.lines?.data ?? []).map((l: Obj) => lineView(l, cur)),
    totals,
    footer: null,
    facts,
  };
}

/** A credit note as a PDF document. */
export function renderCreditNotePdf(note: Obj, opts: { invoice?: Obj | null; accountName?: string | null } = {}): Buffer {
  return renderViewPdf(creditNoteView(note, opts), opts.invoice?.rendering?.pdf?.page_size, note.created ?? 0);
}

// ---- Routes

function scopeOf(params: Record<string, string>): Scope | null {
  if (!/^acct_[A-Za-z0-9]+$/.test(params.account ?? '') || !['test', 'live'].includes(params.mode ?? '')) return null;
  return { account: params.account!, livemode: params.mode === 'live' };
}

const NOT_FOUND = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Invoice not found</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}</style></head>
<body><h1>Invoice not found</h1><p>This invoice link is invalid, or the invoice has not been finalized yet.</p></body></html>
`;

/**
 * Every line of a document whose embedded `lines` list stops at its first page (has_more): the
 * invoices engine stores lines as their own rows (`line_item` indexed by `invoice`,
 * `credit_note_line_item` indexed by `credit_note`), oldest first.
 */
async function allLines(services: Services, scope: Scope, doc: Obj, type: string, field: string): Promise<Obj> {
  if (!doc.lines?.has_more) return doc;
  const data: Obj[] = [];
  let after: { created: number; seq: number } | undefined;
  for (;;) {
    const rows = await services.store.scan(scope, { type, index: { field, value: doc.id }, direction: 'newer', limit: 500, ...(after ? { after } : {}) });
    data.push(...rows.filter((r) => !r.deleted).map((r) => r.data));
    if (rows.length < 500) break;
    const last = rows[rows.length - 1]!;
    after = { created: last.created, seq: last.seq };
  }
  return data.length ? { ...doc, lines: { ...doc.lines, data, has_more: false } } : doc;
}

const notFound = (reply: any) => reply.code(404).type('text/html; charset=utf-8').header('Cache-Control', 'no-store').send(NOT_FOUND);
const pdfName = (doc: Obj) => `${String(doc.number ?? doc.id).replace(/[^A-Za-z0-9._-]/g, '_')}.pdf`;

/**
 * Registers GET /pinstripe/invoices/:account/:mode/:invoice (HTML), …/pdf (application/pdf) and
 * GET /pinstripe/credit_notes/:account/:mode/:note/pdf (a credit note's `pdf`).
 */
export function registerInvoiceDocuments(app: App, services: Services): void {
  const load = async (params: Record<string, string>): Promise<Obj | null> => {
    const scope = scopeOf(params);
    if (!scope || !/^in_[A-Za-z0-9_]+$/.test(params.invoice ?? '')) return null;
    const row = await services.store.get(scope, params.invoice!);
    if (!row || row.type !== 'invoice' || row.deleted || row.data.status === 'draft') return null;
    return allLines(services, scope, row.data, 'line_item', 'invoice');
  };
  app.get('/pinstripe/invoices/:account/:mode/:invoice', async (req, reply) => {
    const params = req.params as Record<string, string>;
    const invoice = await load(params);
    if (!invoice) return notFound(reply);
    const pdfUrl = `/pinstripe/invoices/${params.account}/${params.mode}/${invoice.id}/pdf`;
    return reply.code(200).type('text/html; charset=utf-8').header('Cache-Control', 'no-store').send(renderInvoiceHtml(invoice, { pdfUrl }));
  });
  app.get('/pinstripe/invoices/:account/:mode/:invoice/pdf', async (req, reply) => {
    const invoice = await load(req.params as Record<string, string>);
    if (!invoice) return notFound(reply);
    return reply.code(200).type('application/pdf').header('Cache-Control', 'no-store')
      .header('Content-Disposition', `inline; filename="${pdfName(invoice)}"`).send(renderInvoicePdf(invoice));
  });
  app.get('/pinstripe/credit_notes/:account/:mode/:note/pdf', async (req, reply) => {
    const params = req.params as Record<string, string>;
    const scope = scopeOf(params);
    if (!scope || !/^cn_[A-Za-z0-9_]+$/.test(params.note ?? '')) return notFound(reply);
    const row = await services.store.get(scope, params.note!);
    if (!row || row.type !== 'credit_note' || row.deleted) return notFound(reply);
    const note = await allLines(services, scope, row.data, 'credit_note_line_item', 'credit_note');
    const inv = typeof note.invoice === 'string' ? await services.store.get(scope, note.invoice) : null;
    return reply.code(200).type('application/pdf').header('Cache-Control', 'no-store')
      .header('Content-Disposition', `inline; filename="${pdfName(note)}"`)
      .send(renderCreditNotePdf(note, { invoice: inv && inv.type === 'invoice' ? inv.data : null }));
  });
}
