// The floor of any workerd hop, for `npm run bench:hop`: a worker that only forwards an offload's body to the
// backend's `/infer` (with the backend's bearer token) and streams the answer back. No validation, no state, no
// plan: whatever SPINN's worker costs beyond this is SPINN's own.

interface PassThroughEnv {
  BACKEND_URL: string;
  BACKEND_TOKEN?: string;
}

export default {
  async fetch(request: Request, env: PassThroughEnv): Promise<Response> {
    if (request.method !== 'POST') return new Response('ok'); // readiness probe (GET /healthz)
    const headers = new Headers({ 'content-type': request.headers.get('content-type') ?? '' });
    if (env.BACKEND_TOKEN) headers.set('authorization', `Bearer ${env.BACKEND_TOKEN}`);
    return fetch(`${env.BACKEND_URL}/infer`, { method: 'POST', headers, body: request.body });
  },
};
