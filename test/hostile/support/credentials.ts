// The credentials the hostile tests present to the edge. Today the edge has no access control of its own, so there
// are none; once it has API keys (issue 11, the other half), the harness that starts the edge defines them, and this
// is the one place the storm and the fault test read them from: SPINN_EDGE_API_KEY (sent as a bearer key) and, for
// an edge started by the test itself, SPINN_EDGE_VARS (JSON object of extra wrangler vars, e.g. the key store).

export interface EdgeCredentials {
  /** Headers on every request to the edge. */
  headers: Record<string, string>;
  /** Extra vars for an edge the test starts (undefined when none). */
  vars?: Record<string, string>;
}

export function edgeCredentials(env: NodeJS.ProcessEnv = process.env): EdgeCredentials {
  const key = env.SPINN_EDGE_API_KEY;
  const vars = env.SPINN_EDGE_VARS ? (JSON.parse(env.SPINN_EDGE_VARS) as Record<string, string>) : undefined;
  return { headers: key ? { authorization: `Bearer ${key}` } : {}, ...(vars ? { vars } : {}) };
}
