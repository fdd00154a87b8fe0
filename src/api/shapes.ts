// Small builders for nested hashes that several resources share, in Stripe's shape with every
// field present (null when not set).
import { invalidRequest } from './errors.js';

export type Address = { city: string | null; country: string | null; line1: string | null; line2: string | null; postal_code: string | null; state: string | null };

export function address(p: Record<string, any> | null | undefined): Address | null {
  if (!p) return null;
  return {
    city: p.city ?? null, country: p.country ?? null, line1: p.line1 ?? null,
    line2: p.line2 ?? null, postal_code: p.postal_code ?? null, state: p.state ?? null,
  };
}

/** Shipping details: `{address, name, phone}` (customers, charges, payment intents). */
export function shipping(p: Record<string, any> | null | undefined): Record<string, any> | null {
  if (!p) return null;
  return { address: address(p.address ?? {}), name: p.name ?? null, phone: p.phone ?? null };
}

/** Three-letter ISO currency codes, lower-cased as Stripe returns them. */
export function currency(value: string, param = 'currency'): string {
  const c = value.toLowerCase();
  if (!/^[a-z]{3}$/.test(c)) throw invalidRequest(`Invalid currency: ${value}. Stripe currently supports these currencies: usd, aed, afn, all, amd, ang, aoa, ars, aud, awg, azn, bam, bbd, bdt, bgn, bhd, bif, bmd, bnd, bob, brl, bsd, bwp, byn, bzd, cad, cdf, chf, clp, cny, cop, crc, cve, czk, djf, dkk, dop, dzd, egp, etb, eur, fjd, fkp, gbp, gel, gip, gmd, gnf, gtq, gyd, hkd, hnl, htg, huf, idr, ils, inr, isk, jmd, jod, jpy, kes, kgs, khr, kmf, krw, kwd, kyd, kzt, lak, lbp, lkr, lrd, lsl, mad, mdl, mga, mkd, mmk, mnt, mop, mur, mvr, mwk, mxn, myr, mzn, nad, ngn, nio, nok, npr, nzd, omr, pab, pen, pgk, php, pkr, pln, pyg, qar, ron, rsd, rub, rwf, sar, sbd, scr, sek, sgd, shp, sle, sos, srd, std, szl, thb, tjs, tnd, top, try, ttd, twd, tzs, uah, ugx, uyu, uzs, vnd, vuv, wst, xaf, xcd, xof, xpf, yer, zar, zmw, usdc, btn, ghs, eek, lvl, svc, vef, ltl, sll, mro`, param);
  return c;
}
