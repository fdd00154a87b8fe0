// The hosted invoice page and the invoice PDF: the pure renderers on an invoice-shaped object
// (Stripe's own fixture), the PDF checked structurally (every cross-reference offset, stream
// lengths, the text it draws), and the routes on an invoice stored directly.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { accountIdFor } from '../src/http/auth.js';
import { invoiceDocumentUrls, renderCreditNotePdf, renderInvoiceHtml, renderInvoicePdf } from '../src/web/invoice-documents.js';
import { freshKey, startTestServer, type TestServer } from './helpers/server.js';

type Obj = Record<string, any>;
// Stripe's example invoice and credit note are the renderers' inputs; without ../shared the file skips.
const FIXTURES_URL = new URL('../../../shared/stripe-openapi/fixtures3.latest.json', import.meta.url);
const skip = existsSync(FIXTURES_URL) ? false : `no ${FIXTURES_URL.pathname}: the invoice document tests need ../shared beside the project`;
const FIXTURES = skip ? {} : JSON.parse(readFileSync(FIXTURES_URL, 'utf8'));
const DEC_1_2026 = 1_796_083_200; // 2026-12-01T00:00:00Z

/** Stripe's invoice fixture, finalized, with a customer and a few lines. */
function invoice(over: Obj = {}): Obj {
  const inv = structuredClone((FIXTURES.resources ?? FIXTURES).invoice);
  const line = inv.lines.data[0];
  Object.assign(inv, {
    id: 'in_test123', status: 'open', number: 'PINS-0042', created: DEC_1_2026, effective_at: DEC_1_2026, due_date: DEC_1_2026 + 30 * 86_400,
    status_transitions: { finalized_at: DEC_1_2026, marked_uncollectible_at: null, paid_at: null, voided_at: null },
    customer_name: 'Jenny Rosen', customer_email: 'jenny@example.com', account_name: 'Acme (Test) Ltd',
    customer_address: { line1: '510 Townsend St', line2: null, city: 'San Francisco', state: 'CA', postal_code: '94103', country: 'US' },
    subtotal: 3500, total: 3150, amount_due: 3150, amount_paid: 0, amount_remaining: 3150, total_discount_amounts: [{ amount: 350, discount: 'di_1' }],
    footer: 'Thank you \\ (really)',
  }, over);
  inv.lines.data = [
    { ...line, description: 'Pro plan × 2', quantity: 2, amount: 3000, pricing: { type: 'price_details', unit_amount_decimal: '1500' }, period: { start: DEC_1_2026, end: DEC_1_2026 + 31 * 86_400 } },
    { ...line, description: 'API calls (metered)', quantity: 1000, amount: 500, pricing: { type: 'price_details', unit_amount_decimal: '0.5' }, period: { start: DEC_1_2026, end: DEC_1_2026 } },
  ];
  return inv;
}

interface ParsedPdf { pages: number; text: string[] }

/** Checks a PDF's structure (header, xref offsets, stream lengths, trailer) and returns the strings it draws, decoded. */
function parsePdf(buf: Buffer): ParsedPdf {
  const s = buf.toString('latin1');
  assert.ok(s.startsWith('%PDF-1.'), 'header');
  assert.ok(s.endsWith('%%EOF\n'), 'trailer end');
  const startxref = Number(/startxref\n(\d+)\n%%EOF\n$/.exec(s)![1]);
  assert.equal(s.slice(startxref, startxref + 5), 'xref\n', 'startxref points at the xref table');
  const [, first, count] = /^xref\n(\d+) (\d+)\n/.exec(s.slice(startxref))!.map(Number) as number[];
  assert.equal(first, 0);
  const entries = s.slice(startxref).split('\n').slice(2, 2 + count!);
  assert.equal(entries[0], '0000000000 65535 f ');
  entries.slice(1).forEach((e, i) => {
    assert.match(e, /^\d{10} 00000 n $/);
    const off = Number(e.slice(0, 10));
    assert.equal(s.slice(off, off + `${i + 1} 0 obj`.length), `${i + 1} 0 obj`, `object ${i + 1} at its offset`);
  });
  assert.match(s, new RegExp(`trailer\\n<< /Size ${count} /Root 1 0 R`));
  for (const m of s.matchAll(/<< \/Length (\d+) >>\nstream\n/g)) {
    const start = m.index! + m[0].length;
    assert.equal(s.slice(start + Number(m[1]), start + Number(m[1]) + 9), 'endstream', 'stream length');
  }
  const pages = Number(/\/Type \/Pages \/Kids \[[^\]]*\] \/Count (\d+)/.exec(s)![1]);
  const WIN: Record<number, string> = { 0x80: '€', 0x85: '…', 0x96: '–', 0x97: '—' };
  const text = [...s.matchAll(/\((.*?)(?<!\\)\) Tj/g)].map((m) => m[1]!
    .replace(/\\([0-7]{3})/g, (_x, o) => { const b = parseInt(o, 8); return WIN[b] ?? String.fromCharCode(b); })
    .replace(/\\([()\\])/g, '$1'));
  return { pages, text };
}

describe('invoice renderers', { skip }, () => {
  test('PDF: a well-formed file with header, number, dates, customer, lines, totals and amount due', () => {
    const pdf = renderInvoicePdf(invoice());
    assert.ok(Buffer.isBuffer(pdf));
    const { pages, text } = parsePdf(pdf);
    assert.equal(pages, 1);
    for (const want of ['Invoice', 'Acme (Test) Ltd', 'Invoice number', 'PINS-0042', 'Date of issue', 'December 1, 2026', 'Date due', 'December 31, 2026',
      'Bill to', 'Jenny Rosen', 'jenny@example.com', '510 Townsend St', 'San Francisco, CA, 94103', '$31.50 due December 31, 2026',
      'Description', 'Qty', 'Unit price', 'Amount', 'Pro plan × 2', '2', '$15.00', '$30.00', 'December 1, 2026 – January 1, 2027',
      'API calls (metered)', '1000', '$0.005', '$5.00', 'Subtotal', '$35.00', 'Discount', '-$3.50', 'Total', 'Amount due', '$31.50',
      'Thank you \\ (really)', 'Page 1 of 1']) {
      assert.ok(text.includes(want), `PDF draws ${JSON.stringify(want)}: ${JSON.stringify(text)}`);
    }
    // A reader agrees, where poppler is installed (the structural checks above stand alone).
    const r = spawnSync('pdftotext', ['-layout', '-', '-'], { input: pdf });
    if (r.status === 0) {
      const out = r.stdout.toString();
      for (const want of ['PINS-0042', 'Jenny Rosen', 'Pro plan × 2', '$31.50 due December 31, 2026', 'Thank you \\ (really)']) assert.ok(out.includes(want), out);
    }
  });

  test('PDF: long invoices continue on further pages; A4 when rendering asks; paid invoices are receipts', () => {
    const many = invoice();
    many.lines.data = Array.from({ length: 60 }, (_, i) => ({ ...many.lines.data[0], description: `Seat ${i}` }));
    const { pages, text } = parsePdf(renderInvoicePdf(many));
    assert.ok(pages >= 2, `pages: ${pages}`);
    assert.ok(text.includes('Seat 0') && text.includes('Seat 59'));
    assert.ok(text.includes(`Page ${pages} of ${pages}`));
    assert.equal(text.filter((x) => x === 'Description').length, pages, 'the table header repeats on every page');

    const a4 = renderInvoicePdf(invoice({ rendering: { pdf: { page_size: 'a4' } } })).toString('latin1');
    assert.match(a4, /\/MediaBox \[0 0 595\.28 841\.89\]/);
    assert.match(renderInvoicePdf(invoice()).toString('latin1'), /\/MediaBox \[0 0 612 792\]/);
    // Symbols Helvetica's WinAnsi encoding lacks become the currency code.
    assert.ok(parsePdf(renderInvoicePdf(invoice({ currency: 'inr' }))).text.includes('INR 31.50 due December 31, 2026'));

    const paid = parsePdf(renderInvoicePdf(invoice({ status: 'paid', amount_paid: 3150, amount_due: 3150, amount_remaining: 0,
      status_transitions: { finalized_at: DEC_1_2026, paid_at: DEC_1_2026 + 86_400, marked_uncollectible_at: null, voided_at: null } })));
    assert.ok(paid.text.includes('Receipt'));
    assert.ok(paid.text.includes('$31.50 Paid December 2, 2026'));
    assert.ok(paid.text.includes('Amount paid') && paid.text.includes('-$31.50'));
  });

  test('HTML: the same facts, escaped; status badge; PDF link', () => {
    const html = renderInvoiceHtml(invoice({ customer_name: '<script>alert(1)</script>', description: 'Q4 & more' }), { pdfUrl: '/pinstripe/invoices/acct_1/test/in_test123/pdf' });
    assert.match(html, /^<!doctype html>/);
    assert.ok(!html.includes('<script>'));
    assert.ok(html.includes('&#60;script&#62;alert(1)&#60;/script&#62;'));
    assert.ok(html.includes('Q4 &#38; more'));
    assert.match(html, /<title>Invoice PINS-0042 from Acme \(Test\) Ltd<\/title>/);
    assert.match(html, /<span class="badge open" id="status">open<\/span>/);
    assert.match(html, /<div class="headline" id="amount-due">\$31\.50 due December 31, 2026<\/div>/);
    assert.match(html, /<dd id="number">PINS-0042<\/dd>/);
    assert.match(html, /<dd id="issued">December 1, 2026<\/dd>/);
    assert.match(html, /<td class="num">2<\/td><td class="num">\$15\.00<\/td><td class="num">\$30\.00<\/td>/);
    assert.match(html, /<tr class="strong"><td>Amount due<\/td><td class="num">\$31\.50<\/td><\/tr>/);
    assert.match(html, /<a class="pdf" id="download" href="\/pinstripe\/invoices\/acct_1\/test\/in_test123\/pdf">Download invoice \(PDF\)<\/a>/);
    const voided = renderInvoiceHtml(invoice({ status: 'void' }));
    assert.match(voided, /<div class="headline" id="amount-due">\$31\.50 Void<\/div>/);
    assert.ok(!voided.includes('id="download"'));
    // Zero-decimal and symbol-less currencies.
    const jpy = renderInvoiceHtml(invoice({ currency: 'jpy', amount_due: 1500, subtotal: 1500, total: 1500, total_discount_amounts: [] }));
    assert.match(jpy, /id="amount-due">¥1500 due/);
    const sek = renderInvoiceHtml(invoice({ currency: 'sek', amount_due: 1250 }));
    assert.match(sek, /id="amount-due">12\.50 SEK due/);
  });
});

/** Stripe's credit note fixture, for the invoice() above. */
function creditNote(over: Obj = {}): Obj {
  const note = structuredClone((FIXTURES.resources ?? FIXTURES).credit_note);
  Object.assign(note, { id: 'cn_test1', invoice: 'in_test123', created: DEC_1_2026 + 86_400, effective_at: DEC_1_2026 + 86_400, memo: 'Sorry (again)',
    reason: 'product_unsatisfactory', refunds: [], customer_balance_transaction: 'cbtxn_1', out_of_band_amount: null, total_taxes: null }, over);
  return note;
}

describe('credit note PDF', { skip }, () => {
  test('number, the credited invoice and its customer, lines, the total credited and where it went', () => {
    const { text } = parsePdf(renderCreditNotePdf(creditNote(), { invoice: invoice() }));
    for (const want of ['Credit note', 'Credit note number', 'ABCD-1234-CN-01', 'Date of issue', 'December 2, 2026', 'Original invoice', 'PINS-0042',
      'Reason', 'Product unsatisfactory', 'Jenny Rosen', '$16.90 credited', 'Sorry (again)', 'My First Invoice Item (created for API docs)', '$11.90',
      'Service credit', '$5.00', 'Subtotal', 'Total credited', '$16.90', 'Credited to customer balance', 'Acme (Test) Ltd']) {
      assert.ok(text.includes(want), `PDF draws ${JSON.stringify(want)}: ${JSON.stringify(text)}`);
    }
    const bare = parsePdf(renderCreditNotePdf(creditNote({ status: 'void', refunds: [{ amount_refunded: 1690, refund: 're_1', type: 'refund' }], customer_balance_transaction: null })));
    assert.ok(bare.text.includes('$16.90 credited (void)'));
    assert.ok(bare.text.includes('Refunded'));
    assert.ok(bare.text.includes('in_test123'), 'without the invoice, its id');
  });
});

describe('invoice document routes', { skip }, () => {
  let t: TestServer;
  before(async () => { if (!skip) t = await startTestServer(); });
  after(async () => { if (!skip) await t.close(); });

  async function store(key: string, inv: Obj): Promise<{ account: string; mode: string }> {
    const scope = { account: accountIdFor(key.replace(/^sk_(test|live)_/, '')), livemode: key.includes('_live_') };
    await t.server.services.store.transaction((tx) => tx.insert(scope, { id: inv.id, type: 'invoice', created: inv.created, data: inv, index: [] }));
    return { account: scope.account, mode: scope.livemode ? 'live' : 'test' };
  }

  test('GET the page (HTML) and the PDF of a finalized invoice; the URLs invoiceDocumentUrls builds', async () => {
    const key = freshKey();
    const { account, mode } = await store(key, invoice({ id: 'in_route1' }));
    const urls = invoiceDocumentUrls(t.url, { account, livemode: false }, 'in_route1');
    assert.equal(urls.hosted_invoice_url, `${t.url}/pinstripe/invoices/${account}/${mode}/in_route1`);
    assert.equal(urls.invoice_pdf, `${urls.hosted_invoice_url}/pdf`);
    const page = await fetch(urls.hosted_invoice_url);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type')!, /^text\/html; charset=utf-8/);
    const html = await page.text();
    assert.match(html, /PINS-0042/);
    assert.ok(html.includes(`href="/pinstripe/invoices/${account}/test/in_route1/pdf"`));
    const pdf = await fetch(urls.invoice_pdf);
    assert.equal(pdf.status, 200);
    assert.equal(pdf.headers.get('content-type'), 'application/pdf');
    assert.equal(pdf.headers.get('content-disposition'), 'inline; filename="PINS-0042.pdf"');
    const { text } = parsePdf(Buffer.from(await pdf.arrayBuffer()));
    assert.ok(text.includes('PINS-0042') && text.includes('$31.50'));
  });

  test('an invoice whose embedded lines stop at the first page shows every stored line', async () => {
    const key = freshKey();
    const inv = invoice({ id: 'in_many1' });
    inv.lines = { ...inv.lines, data: inv.lines.data.slice(0, 1), has_more: true };
    const { account } = await store(key, inv);
    const scope = { account, livemode: false };
    await t.server.services.store.transaction(async (tx) => {
      for (let i = 0; i < 12; i++) {
        await tx.insert(scope, { id: `il_many${i}`, type: 'line_item', created: DEC_1_2026 + i, data: { ...inv.lines.data[0], id: `il_many${i}`, description: `Stored line ${i}` }, index: [{ field: 'invoice', value: 'in_many1' }] });
      }
    });
    const pdf = await fetch(`${t.url}/pinstripe/invoices/${account}/test/in_many1/pdf`);
    const { text } = parsePdf(Buffer.from(await pdf.arrayBuffer()));
    for (let i = 0; i < 12; i++) assert.ok(text.includes(`Stored line ${i}`), `line ${i}`);
    const html = await (await fetch(`${t.url}/pinstripe/invoices/${account}/test/in_many1`)).text();
    assert.equal(html.match(/Stored line \d+/g)!.length, 12);
  });

  test('GET a credit note PDF, with its invoice\'s customer; 404 for unknown ids', async () => {
    const key = freshKey();
    const { account } = await store(key, invoice());
    const scope = { account, livemode: false };
    const note = creditNote();
    await t.server.services.store.transaction((tx) => tx.insert(scope, { id: note.id, type: 'credit_note', created: note.created, data: note, index: [] }));
    const r = await fetch(`${t.url}/pinstripe/credit_notes/${account}/test/${note.id}/pdf`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/pdf');
    assert.equal(r.headers.get('content-disposition'), 'inline; filename="ABCD-1234-CN-01.pdf"');
    const { text } = parsePdf(Buffer.from(await r.arrayBuffer()));
    assert.ok(text.includes('ABCD-1234-CN-01') && text.includes('PINS-0042') && text.includes('Jenny Rosen'));
    for (const path of [`${account}/test/cn_nope/pdf`, `${account}/live/${note.id}/pdf`, `${account}/test/in_test123/pdf`]) {
      assert.equal((await fetch(`${t.url}/pinstripe/credit_notes/${path}`)).status, 404, path);
    }
  });

  test('end to end: a finalized invoice\'s hosted_invoice_url and invoice_pdf serve its page and PDF; a paid one is a receipt', async () => {
    const s = t.stripe(freshKey());
    const cus = await s.customers.create({ name: 'Ada Lovelace', email: 'ada@example.com' });
    await s.invoiceItems.create({ customer: cus.id, amount: 4200, currency: 'usd', description: 'Analytical engine time' });
    const draft = await s.invoices.create({ customer: cus.id, pending_invoice_items_behavior: 'include', collection_method: 'send_invoice', days_until_due: 30 });
    assert.equal(draft.hosted_invoice_url, null);
    const inv = await s.invoices.finalizeInvoice(draft.id);
    assert.ok(inv.hosted_invoice_url && inv.invoice_pdf, 'finalized invoices carry both URLs');
    const page = await fetch(inv.hosted_invoice_url!);
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.ok(html.includes(inv.number!) && html.includes('Ada Lovelace') && html.includes('Analytical engine time') && html.includes('$42.00'), html);
    const pdf = await fetch(inv.invoice_pdf!);
    assert.equal(pdf.headers.get('content-type'), 'application/pdf');
    const { text } = parsePdf(Buffer.from(await pdf.arrayBuffer()));
    for (const want of [inv.number!, 'Ada Lovelace', 'ada@example.com', 'Analytical engine time', '$42.00']) assert.ok(text.includes(want), `${want}: ${JSON.stringify(text)}`);
    const paid = await s.invoices.pay(inv.id, { paid_out_of_band: true });
    assert.equal(paid.status, 'paid');
    assert.ok(parsePdf(Buffer.from(await (await fetch(paid.invoice_pdf!)).arrayBuffer())).text.includes('Receipt'));
  });

  test('404 page for drafts, unknown ids, another mode or account, objects that are not invoices', async () => {
    const key = freshKey();
    const { account } = await store(key, invoice({ id: 'in_draft1', status: 'draft', number: null }));
    await store(key, invoice({ id: 'in_open1' }));
    for (const path of [`${account}/test/in_draft1`, `${account}/test/in_draft1/pdf`, `${account}/test/in_nope`, `${account}/test/in_nope/pdf`,
      `${account}/live/in_open1`, `acct_other/test/in_open1`, `not-an-account/test/in_open1`, `${account}/sandbox/in_open1`, `${account}/test/cus_123`]) {
      const r = await fetch(`${t.url}/pinstripe/invoices/${path}`);
      assert.equal(r.status, 404, path);
      assert.match(r.headers.get('content-type')!, /^text\/html/);
      assert.match(await r.text(), /Invoice not found/);
    }
    assert.equal((await fetch(`${t.url}/pinstripe/invoices/${account}/test/in_open1`)).status, 200);
  });
});
