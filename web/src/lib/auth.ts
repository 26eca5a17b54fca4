// The API token: taken from the address (#token=..., as the embedded service prints it) or typed
// in; kept for this browser tab only and never left in the address bar or history.
const KEY = 'brainalign.token';

export function captureTokenFromUrl(): void {
  const match = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
  if (!match) return;
  sessionStorage.setItem(KEY, decodeURIComponent(match[1]));
  history.replaceState(history.state, '', window.location.pathname + window.location.search);
}

export function getToken(): string | null {
  return sessionStorage.getItem(KEY);
}

export function setToken(token: string | null): void {
  if (token) sessionStorage.setItem(KEY, token);
  else sessionStorage.removeItem(KEY);
}
