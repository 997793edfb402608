export async function main(argv: string[]): Promise<void> {
  console.log('batchron: not yet', argv.slice(2).join(' '));
}
