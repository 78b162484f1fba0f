import { Ajv2019 } from 'ajv/dist/2019.js';
import addFormatsModule from 'ajv-formats';
import { readJson } from '../openbadges/helpers.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2019) => void;

/**
 * 1EdTech's CLR 2.0 ClrCredential JSON schema (test/data/schemas, see its SOURCES note), and its
 * OB 3.0 AchievementCredential schema, which checks each credential a record holds.
 */
export function clrSchemas() {
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  addFormats(ajv);
  const achievementCredential = readJson('schemas', 'ob_v3p0_achievementcredential_schema.json');
  ajv.addSchema(achievementCredential);
  return {
    clr: ajv.compile(readJson('schemas', 'clr_v2p0_clrcredential_schema.json')),
    credential: ajv.getSchema(achievementCredential.$id as string)!,
  };
}

/** The schema errors of a record and of every credential it holds (empty when all are valid). */
export function clrSchemaErrors(record: any): string[] {
  const { clr, credential } = clrSchemas();
  const errors: string[] = [];
  if (!clr(record)) errors.push(...(clr.errors ?? []).map((e) => `record${e.instancePath} ${e.message}`));
  (record.credentialSubject?.verifiableCredential ?? []).forEach((c: unknown, i: number) => {
    if (!credential(c))
      errors.push(...(credential.errors ?? []).map((e) => `credential ${i}${e.instancePath} ${e.message}`));
  });
  return errors;
}
