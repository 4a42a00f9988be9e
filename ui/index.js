// Entry of the alert-dashboard widget bundle: the dashboard reads the component by this name.
import './components/styles.js'
export { default as AlertDashboard } from './components/AlertDashboard.vue'
