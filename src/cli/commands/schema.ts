import type { Command } from 'commander';
import { labJsonSchema } from '../../lab/json-schema.ts';

export default function register(program: Command): void {
  program
    .command('schema')
    .description('print the JSON Schema of lab files (point your editor at it for completion: schema/lab.schema.json)')
    .action(() => {
      console.log(JSON.stringify(labJsonSchema(), null, 2));
    });
}
