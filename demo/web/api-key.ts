// The demo page's API key: taken from the URL fragment (`/#key=<key>`: a fragment never reaches a server or its
// logs), kept in sessionStorage for reloads, and removed from the address bar so it is not shared by copy and paste.
// `npm run demo -- --serve` prints the page's URL with its key. A keyless local dev server needs none.

const STORAGE_KEY = 'spinn-api-key';

export function readApiKey(): string | undefined {
  const fromFragment = new URLSearchParams(location.hash.slice(1)).get('key');
  if (fromFragment) {
    sessionStorage.setItem(STORAGE_KEY, fromFragment);
    history.replaceState(null, '', `${location.pathname}${location.search}`);
    return fromFragment;
  }
  return sessionStorage.getItem(STORAGE_KEY) ?? undefined;
}

/** `fetch` that presents `apiKey` (when there is one) as a bearer token. */
export function withApiKey(apiKey: string | undefined, f: typeof fetch = fetch): typeof fetch {
  if (!apiKey) return f;
  return (input, init) => {
    const headers = new Headers(init?.headers);
    headers.set('authorization', `Bearer ${apiKey}`);
    return f(input, { ...init, headers });
  };
}

/**
 * Whether the edge accepts this page's key: a read of an id nobody used is 404 for a valid key (and on a keyless
 * dev server), 401/403 otherwise. Returns a sentence for the page.
 */
export async function describeAccess(edgeUrl: string, apiKey: string | undefined): Promise<string> {
  try {
    const res = await withApiKey(apiKey)(`${edgeUrl}/v1/requests/access-check-${Date.now()}`);
    await res.body?.cancel();
    if (res.status === 404) return apiKey ? 'API key accepted' : 'no API key needed (local dev server)';
    return `the edge refuses this page (HTTP ${res.status}${apiKey ? ', key not accepted' : ', no API key'}): open it as /#key=<your API key>; until then every image runs on this device`;
  } catch (e) {
    return `edge unreachable (${(e as Error).message})`;
  }
}
