import { z } from 'zod';

/** A Glue (Hive) column: name and type, as AWS::Glue::Table's StorageDescriptor takes it. */
export interface GlueColumn {
  readonly name: string;
  readonly type: string;
}

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  enum?: unknown[];
}

/**
 * The Hive type of a JSON Schema node. A value of any shape (`z.unknown()`, a union of types) is a
 * `string`: the JSON SerDe hands it over as its JSON text, and a query reads it with json_extract.
 */
function hiveType(node: JsonSchema): string {
  const type = Array.isArray(node.type) ? (node.type.length === 1 ? node.type[0] : undefined) : node.type;
  switch (type) {
    case 'string':
      return 'string';
    case 'integer':
      return 'bigint';
    case 'number':
      return 'double';
    case 'boolean':
      return 'boolean';
    case 'array':
      return `array<${hiveType(node.items ?? {})}>`;
    case 'object':
      if (node.properties && Object.keys(node.properties).length > 0) {
        return `struct<${Object.entries(node.properties).map(([name, field]) => `${name}:${hiveType(field)}`).join(',')}>`;
      }
      return `map<string,${hiveType(typeof node.additionalProperties === 'object' ? node.additionalProperties : {})}>`;
    default:
      return 'string';
  }
}

/**
 * The Glue columns of a record schema, in the schema's field order, leaving out the fields that are
 * partition keys (Glue refuses a column that is also a partition key; the key's value comes from the path).
 * The table is derived from the zod schema so the two cannot drift.
 */
export function glueColumnsOf(schema: z.ZodObject, partitionKeys: readonly string[] = []): GlueColumn[] {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  return Object.entries(json.properties ?? {})
    .filter(([name]) => !partitionKeys.includes(name))
    .map(([name, field]) => ({ name, type: hiveType(field) }));
}
