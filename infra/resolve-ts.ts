/**
 * Lets Node run the CDK app straight from TypeScript: `node --import ./infra/resolve-ts.ts infra/app.ts`
 * (cdk.json). Node strips the types itself; this hook only maps the `.js` specifiers our sources
 * use (TypeScript's nodenext convention) to the `.ts` files that exist. Type stripping handles
 * erasable syntax only, so the app imports nothing from lambda/ but the option table and what
 * it needs (`lambda/core/job-options.ts`, `options.ts`, `option-kinds.ts`, `errors.ts`, the
 * address policy); the handlers themselves are bundled by esbuild, which handles all of TypeScript.
 */
import { registerHooks } from 'node:module';

registerHooks({
  resolve(specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context);
    } catch (err) {
      const relative = specifier.startsWith('./') || specifier.startsWith('../');
      if (
        !relative ||
        !specifier.endsWith('.js') ||
        (err as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND'
      ) {
        throw err;
      }
      return nextResolve(`${specifier.slice(0, -'.js'.length)}.ts`, context);
    }
  },
});
