// The console's pages. Every screen is its own chunk, loaded when first visited (screen modules
// export Component), so the sign-in page carries none of the project page's code. Declarative
// routes: the data router's loaders are not used (TanStack Query loads the data), and leaving
// them out keeps the first page's JavaScript under its budget.
import { lazy, Suspense, type ComponentType } from "react";
import { BrowserRouter, Navigate, Route, Routes } from "react-router";
import { RedirectIfSignedIn, RequireSession } from "../session/RequireSession";
import { Loading } from "../shared/Loading";
import { ErrorBoundary } from "./ErrorBoundary";
import { Layout } from "./Layout";

function page(load: () => Promise<{ Component: ComponentType }>) {
  const Page = lazy(() => load().then((m) => ({ default: m.Component })));
  return (
    <ErrorBoundary>
      <Suspense fallback={<Loading />}>
        <Page />
      </Suspense>
    </ErrorBoundary>
  );
}

// Made once: a lazy component made during render would remount its page each time.
const ProjectLayout = page(() => import("../screens/project/ProjectLayout"));
const ResetPasswordPage = page(() => import("../screens/reset-password/ResetPasswordPage"));
const SignInPage = page(() => import("../screens/sign-in/SignInPage"));
const SignUpPage = page(() => import("../screens/sign-up/SignUpPage"));
const ForgotPasswordPage = page(() => import("../screens/forgot-password/ForgotPasswordPage"));
const ProjectsPage = page(() => import("../screens/projects/ProjectsPage"));
const NewProjectPage = page(() => import("../screens/new-project/NewProjectPage"));
const NotificationsPage = page(() => import("../screens/notifications/NotificationsPage"));
const OverviewPage = page(() => import("../screens/project/overview/OverviewPage"));
const ReviewPage = page(() => import("../screens/project/review/ReviewPage"));
const DocumentsPage = page(() => import("../screens/project/documents/DocumentsPage"));
const DocumentPage = page(() => import("../screens/project/document/DocumentPage"));
const CodePage = page(() => import("../screens/project/code/CodePage"));
const TasksPage = page(() => import("../screens/project/tasks/TasksPage"));
const TimelinePage = page(() => import("../screens/project/timeline/TimelinePage"));
const CostsPage = page(() => import("../screens/project/costs/CostsPage"));
const MembersPage = page(() => import("../screens/project/members/MembersPage"));
const ExportPage = page(() => import("../screens/project/export/ExportPage"));
const NotFoundPage = page(() => import("../screens/not-found/NotFoundPage"));

export function AppRoutes() {
  return (
    <BrowserRouter>
      <ErrorBoundary>
        <Routes>
          <Route element={<Layout />}>
            <Route path="reset-password" element={ResetPasswordPage} />
            <Route element={<RedirectIfSignedIn />}>
              <Route path="sign-in" element={SignInPage} />
              <Route path="sign-up" element={SignUpPage} />
              <Route path="forgot-password" element={ForgotPasswordPage} />
            </Route>
            <Route element={<RequireSession />}>
              <Route index element={<Navigate to="/projects" replace />} />
              <Route path="projects" element={ProjectsPage} />
              <Route path="projects/new" element={NewProjectPage} />
              <Route path="notifications" element={NotificationsPage} />
              <Route path="projects/:projectId" element={ProjectLayout}>
                <Route index element={OverviewPage} />
                <Route path="gates/:gate/review" element={ReviewPage} />
                <Route path="documents" element={DocumentsPage} />
                <Route path="documents/:documentId" element={DocumentPage} />
                <Route path="code" element={CodePage} />
                <Route path="tasks" element={TasksPage} />
                <Route path="timeline" element={TimelinePage} />
                <Route path="costs" element={CostsPage} />
                <Route path="members" element={MembersPage} />
                <Route path="export" element={ExportPage} />
              </Route>
            </Route>
            <Route path="*" element={NotFoundPage} />
          </Route>
        </Routes>
      </ErrorBoundary>
    </BrowserRouter>
  );
}
