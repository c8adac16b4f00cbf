// The base64 command: each argument after the program's name, its UTF-8
// bytes encoded by `as-base64`, one a line on stdout.
import { encode } from "as-base64/assembly";

const args = process.argv;
for (let i = 1; i < args.length; i++) {
  const bytes = Uint8Array.wrap(String.UTF8.encode(args[i]));
  process.stdout.write(encode(bytes) + "\n");
}
