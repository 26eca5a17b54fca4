// Who the dashboard acts as: a Bearer token, or anonymous (public leaderboards only).
import { useState, type FormEvent } from 'react';
import { getToken, setToken } from '../lib/auth';

export function AuthBar() {
  const [token, setLocal] = useState(getToken());
  const [draft, setDraft] = useState('');
  const apply = (value: string | null) => {
    setToken(value);
    setLocal(value);
    // Every page reads with the new identity.
    window.location.reload();
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (draft.trim()) apply(draft.trim());
  };
  if (token)
    return (
      <div className="auth" data-testid="auth-state">
        <span>Signed in with token …{token.slice(-4)}</span>
        <button type="button" onClick={() => apply(null)}>
          Sign out
        </button>
      </div>
    );
  return (
    <form className="auth" onSubmit={submit} data-testid="auth-state">
      <span className="anon">Anonymous: public leaderboards only</span>
      <label htmlFor="token-input">API token</label>
      <input id="token-input" type="password" autoComplete="off" value={draft} onChange={(e) => setDraft(e.target.value)} />
      <button type="submit">Sign in</button>
    </form>
  );
}
