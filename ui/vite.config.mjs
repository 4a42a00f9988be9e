// Builds the alert-dashboard widget for Dashboard 2.0: one UMD file in resources/, whose
// global name is the widget name (the dashboard loads /resources/<package>/<output> and looks
// for window["alert-dashboard"].AlertDashboard). Vue is the dashboard's own, as a global.
import { fileURLToPath } from 'node:url'
import * as path from 'node:path'
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

const here = path.dirname(fileURLToPath(import.meta.url))

export default defineConfig({
    root: here,
    plugins: [vue()],
    define: { 'process.env.NODE_ENV': JSON.stringify('production') },
    build: {
        outDir: path.resolve(here, '..', 'resources'),
        // resources/ also holds the editor forms' shared script (vigie-editor.js, a source): not emptied
        emptyOutDir: false,
        sourcemap: false,
        lib: {
            entry: path.resolve(here, 'index.js'),
            name: 'alert-dashboard',
            formats: ['umd'],
            fileName: (format) => `alert-dashboard.${format}.js`
        },
        rollupOptions: {
            external: ['vue'],
            output: { globals: { vue: 'Vue' } }
        }
    }
})
