/** The password policy, in words, as RegisterRequest.password states it (the server checks it). */
export const PASSWORD_RULES =
  "10-128 characters, with a letter and a digit, space or symbol; not containing the part of your email before the @.";
