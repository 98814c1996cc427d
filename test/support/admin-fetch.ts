// A minimal client of the sidecar's admin API for tests: JSON body in, status and parsed JSON out.
// (test/integration/sidecar-admin-api.test.ts has a fuller one for raw bodies and headers.)

export interface AdminAnswer {
  status: number;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON
}

/** `api(method, path, body?)` against `base` (`http://127.0.0.1:<port>/admin/v1`) with the admin token. */
export function adminFetch(base: string, token: string): (method: string, path: string, body?: unknown) => Promise<AdminAnswer> {
  return async (method, path, body) => {
    const res = await fetch(base + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined };
  };
}
