# One image for the API and the worker; the compose file picks the entry point.
FROM node:20-bookworm-slim AS build
WORKDIR /app
# The worker image can carry the CUDA execution provider: build with --build-arg ORT_INSTALL=cuda12.
ARG ORT_INSTALL=skip
ENV ONNXRUNTIME_NODE_INSTALL=${ORT_INSTALL}
COPY package.json package-lock.json ./
COPY vendor/ vendor/
COPY scripts/onnxruntime-provider.js scripts/
RUN npm ci --no-audit --no-fund
COPY . .
# The dashboard bundle (web/dist) is built here with the dev tools, then served by the API at /dashboard/.
RUN npm run generate && npm run build:web && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production BRAINALIGN_PROFILE=production
COPY --from=build /app /app
USER node
EXPOSE 4000
CMD ["node_modules/.bin/tsx", "src/main.ts"]
