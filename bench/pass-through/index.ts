// The floor of any workerd hop, for `npm run bench:hop`: a worker that only forwards an offload's body to the
// backend's `/infer` (with the backend's bearer token) and streams the answer back. No validation, no state, no
// plan: whatever SPINN's worker costs beyond this is SPINN's own. With BUFFERED=true (wrangler.buffered.toml, for
// bench:phases) it reads the offload whole before the call and the answer whole before answering, as any hop that
// checks both must.

interface PassThroughEnv {
  BACKEND_URL: string;
  BACKEND_TOKEN?: string;
  BUFFERED?: string;
}

export default {
  async fetch(request: Request, env: PassThroughEnv): Promise<Response> {
    if (request.method !== 'POST') return new Response('ok'); // readiness probe (GET /healthz)
    const headers = new Headers({ 'content-type': request.headers.get('content-type') ?? '' });
    if (env.BACKEND_TOKEN) headers.set('authorization', `Bearer ${env.BACKEND_TOKEN}`);
    const url = `${env.BACKEND_URL}/infer`;
    if (env.BUFFERED !== 'true') return fetch(url, { method: 'POST', headers, body: request.body });
    const body = new Uint8Array(await request.arrayBuffer());
    const res = await fetch(url, { method: 'POST', headers, body });
    const answer = new Uint8Array(await res.arrayBuffer());
    const type = res.headers.get('content-type') ?? '';
    return new Response(answer, { status: res.status, headers: { 'content-type': type } });
  },
};
