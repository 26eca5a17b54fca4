// The S3 emulator in its own process, so benchmarks measure the API's and worker's memory alone.
import { startS3Emulator } from '../../tests/helpers/s3-emulator';

startS3Emulator({ bucket: 'bench' }).then((s3) => {
  process.stdout.write(`${JSON.stringify(s3)}\n`);
  process.on('SIGTERM', () => void s3.stop().then(() => process.exit(0)));
});
