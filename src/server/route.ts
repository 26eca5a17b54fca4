// A route of the HTTP server: handles the request and returns true, or returns false to pass it on.
import type http from 'node:http';

export type RouteHandler = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<boolean>;
