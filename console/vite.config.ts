import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Served by intake under /console; every asset is bundled (no CDN at run time).
export default defineConfig({
  base: '/console/',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 800 },
});
