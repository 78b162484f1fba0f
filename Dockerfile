# Laurel's production image: built once, run as web, worker or both (LAUREL_ROLE).
# It holds only what production runs: the compiled src/ (tsconfig.build.json), production
# dependencies, the views and the lti/ folder (setup files and the Moodle plugin Laurel serves).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY views ./views
COPY lti ./lti
USER node
EXPOSE 3000
# Healthy means able to serve: MongoDB answers and the job queue is ready (/readyz), not just alive.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/src/main.js"]
