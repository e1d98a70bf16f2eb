// The live connection's code, loaded once someone is signed in (the sign-in page does not need
// it, and its JavaScript budget is tight).
export { applyLiveMessage } from "./cache";
export { LiveConnection } from "./connection";
