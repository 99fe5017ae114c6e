# dbdoctor in a container: for init containers (dbdoctor wait), one-off Jobs (dbdoctor diagnose)
# and CronJobs that write Prometheus metrics. Build: docker build -t dbdoctor .
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
RUN npm ci --ignore-scripts
COPY src ./src
COPY scripts/bundle.ts scripts/train-code-cache.cjs ./scripts/
# The bundle's code cache is trained by running it through bin/dbdoctor.js (scripts/train-code-cache.cjs).
COPY bin ./bin
# tsc's dist/ (one file per module) and the command line's bundle in dist/bundle/ (scripts/bundle.ts).
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY package.json README.md ./
RUN ln -s /app/bin/dbdoctor.js /usr/local/bin/dbdoctor
# The node image's unprivileged user: dbdoctor needs no privileges (it reads /proc where allowed).
USER node
ENTRYPOINT ["dbdoctor"]
CMD ["diagnose"]
