// Completing or failing Pinstripe's 3-D Secure test page without a browser: load the page, read
// its Complete or Fail form, and post it as the browser would (redirects not followed, so the
// caller sees the redirect back to the return_url).
import assert from 'node:assert/strict';

export async function submitThreeDSPage(url: string, which: 'complete' | 'fail'): Promise<Response> {
  const res = await fetch(url);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
  const html = await res.text();
  const form = new RegExp(`<form id="${which}" method="post" action="([^"]+)">(.*?)</form>`).exec(html);
  assert.ok(form, `no ${which} form in ${html}`);
  const fields = new URLSearchParams();
  for (const m of form[2]!.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) fields.set(m[1]!, m[2]!.replace(/&#(\d+);/g, (_x, n) => String.fromCharCode(Number(n))));
  return fetch(new URL(form[1]!, url), { method: 'POST', body: fields, redirect: 'manual', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
}
